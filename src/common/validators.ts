// class-validator decorators built from the one schema table (schema/fields.ts): a DTO field says
// which rule it follows, and the message is the one the whole-document check gives.
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { ruleProblem } from '../schema/check.js';
import { LIMITS, RULES, type FieldRule } from '../schema/fields.js';

/** The field follows `rule` of the schema table. */
export function Follows(rule: FieldRule, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: `schema.${rule.kind}`,
      validator: {
        validate: (value) => ruleProblem(rule, value) === undefined,
        defaultMessage: (args) => `${args?.property} ${ruleProblem(rule, args?.value) ?? 'is invalid'}`,
      },
    },
    options,
  );
}

/** An allow-list: 1 to LIMITS.allowEntries CIDR blocks. Absent or null (PATCH) means everyone. */
export function IsAllowList(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'schema.allowList',
      validator: {
        validate: (value) => allowListProblem(value) === undefined,
        defaultMessage: (args) => `${args?.property} ${allowListProblem(args?.value) ?? 'is invalid'}`,
      },
    },
    options,
  );
}

function allowListProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'must be an array of CIDR blocks';
  if (value.length === 0) return 'must not be empty: leave it out (or null) to allow everyone';
  if (value.length > LIMITS.allowEntries) return `must hold at most ${LIMITS.allowEntries} entries`;
  for (const [i, entry] of value.entries()) {
    const problem = ruleProblem(RULES.frontend.allowEntry, entry);
    if (problem) return `entry ${i} ${problem}`;
  }
  return undefined;
}
