// class-validator decorators built from the one schema table (schema/fields.ts): a DTO field says
// which rule it follows, and the message is the one the whole-document check gives. The DTOs check
// shape and syntax; the policies on new input (no `.` names, no empty allow-list, no multicast bind,
// CMPP fields in bytes) are left to the document check, which knows which items a change touches
// (docs/config-limits.md), so a whole config sent back as read is refused only for what it changes. A request
// refused here still hears about its `bytes` fields' lengths (bytesLengthProblems), which that check would refuse.
import { Transform } from 'class-transformer';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { ruleProblem } from '../schema/check.js';
import { toMilliseconds } from '../schema/durations.js';
import { LIMITS, RULES, type FieldRule } from '../schema/fields.js';

/**
 * The field follows `rule` of the schema table. A duration field also takes HAProxy's spellings
 * (`5s`, `500ms`, `1m`): they become milliseconds before the check, so the service sees numbers only.
 */
export function Follows(rule: FieldRule, options?: ValidationOptions): PropertyDecorator {
  const remember: PropertyDecorator = (target, key) => {
    if (rule.kind !== 'bytes' || typeof key !== 'string') return;
    const own = BYTES_RULES.get(target.constructor) ?? new Map<string, FieldRule>();
    own.set(key, rule);
    BYTES_RULES.set(target.constructor, own);
  };
  const validate = ValidateBy(
    {
      name: `schema.${rule.kind}`,
      validator: {
        validate: (value) => ruleProblem(rule, value, false) === undefined,
        defaultMessage: (args) =>
          `${args?.property} ${ruleProblem(rule, args?.value, false) ?? 'is invalid'}`,
      },
    },
    options,
  );
  if (rule.kind !== 'duration')
    return (target, key) => {
      remember(target, key);
      validate(target, key);
    };
  // The value as sent (`obj[key]`), not one an implicit conversion may have made of it.
  const transform = Transform(({ obj, key }) => toMilliseconds((obj as Record<string, unknown>)[key]));
  return (target, key) => {
    transform(target, key);
    validate(target, key);
  };
}

/** DTO class -> its fields that follow a `bytes` rule (only a string here; its length is the document check's). */
const BYTES_RULES = new Map<object, Map<string, FieldRule>>();

/**
 * A request the DTOs refuse never reaches the document check, so a `bytes` field over its length (a 7-byte
 * check.cmpp.sourceAddr) would only be named in the answer to the next try. The refused request's `bytes` fields whose
 * length is wrong, with their paths under `parent` (at most `max`): named in the same answer. (A value stored under
 * older rules and sent back unchanged is named too, but only in a request refused anyway.)
 */
export function bytesLengthProblems(
  root: unknown,
  parent: string,
  max: number,
  path: (parent: string, property: string) => string,
): Array<{ field: string; message: string }> {
  const out: Array<{ field: string; message: string }> = [];
  const seen = new Set<object>();
  const walk = (value: unknown, at: string): void => {
    if (out.length >= max || value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, path(at, String(i))));
      return;
    }
    const rules = BYTES_RULES.get((value as object).constructor);
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const rule = rules?.get(key);
      const field = path(at, key);
      if (rule !== undefined && typeof item === 'string') {
        const problem = ruleProblem(rule, item, true);
        if (problem !== undefined && out.length < max) out.push({ field, message: `${field} ${problem}` });
      } else walk(item, field);
    }
  };
  walk(root, parent);
  return out;
}

/** An allow-list: up to LIMITS.allowEntries CIDR blocks (empty is refused by the document check). */
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
  if (value.length > LIMITS.allowEntries) return `must hold at most ${LIMITS.allowEntries} entries`;
  for (const [i, entry] of value.entries()) {
    const problem = ruleProblem(RULES.frontend.allowEntry, entry, false);
    if (problem) return `entry ${i} ${problem}`;
  }
  return undefined;
}

/** Plain decimal digits, as a number query parameter is written: no exponent, hex prefix, blanks, `+` or leading zero
 *  (a `-` is read, so @Min names a negative value as too small). */
const QUERY_INTEGER = /^(?:0|-?[1-9]\d{0,15})$/;

/**
 * A whole-number query parameter read from plain decimal digits only: `Number()` would read `0x10` as 16, `1e3`
 * as 1000 and an empty or blank value as 0. Anything else is left as sent, for @IsInt to name the parameter.
 */
export function QueryInteger(): PropertyDecorator {
  return Transform(({ obj, key }) => {
    const value = (obj as Record<string, unknown>)[key];
    return typeof value === 'string' && QUERY_INTEGER.test(value) ? Number(value) : value;
  });
}

/** A query value as a message quotes it: short, and an array (the parameter given twice) said as such. */
function shownQueryValue(value: unknown): string {
  if (Array.isArray(value)) return `${value.length} values (give it once)`;
  const text = JSON.stringify(typeof value === 'string' ? value : String(value));
  return text.length > 42 ? `${text.slice(0, 40)}…"` : text;
}

/**
 * A whole-number query parameter (read by QueryInteger) from `min` to `max`: one message for every way it can be
 * wrong (not digits, out of range, given twice), saying what is expected, instead of whichever bound happened to
 * fail first ("limit must not be greater than 1000" for `limit=abc`). `expected` words the range when the bounds
 * would not help (a time since the epoch).
 */
export function IsQueryIntegerIn(min: number, max: number, expected?: string): PropertyDecorator {
  return ValidateBy({
    name: 'query.integerIn',
    validator: {
      validate: (value) =>
        typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max,
      defaultMessage: (args) =>
        `${args?.property} must be ${expected ?? `a whole number from ${min} to ${max}`}, in plain digits, got ${shownQueryValue(args?.value)}`,
    },
  });
}

/** A text query parameter given once, of at most `maxLength` characters (a filter on a name). */
export function IsQueryText(maxLength: number): PropertyDecorator {
  return ValidateBy({
    name: 'query.text',
    validator: {
      validate: (value) => typeof value === 'string' && value.length <= maxLength,
      defaultMessage: (args) =>
        `${args?.property} must be one text of at most ${maxLength} characters, got ${shownQueryValue(args?.value)}`,
    },
  });
}

/** The constraint name of IsArrayOf: validation.ts reports only its message for the field (not the items'). */
export const ARRAY_CONSTRAINT = 'schema.array';

/** What an array field holds and how many: `noun` names its items in messages ("frontends", "binds"). */
export interface ArrayBounds {
  noun: string;
  max: number;
  min?: number;
}

function arrayProblem(value: unknown, { noun, max, min = 0 }: ArrayBounds): string | undefined {
  const shape = min > 0 ? `${min} to ${max} ${noun}` : `at most ${max} ${noun}`;
  if (value === undefined || value === null) return `is required: an array of ${shape}`;
  if (!Array.isArray(value)) return `must be an array of ${shape}`;
  if (value.length > max)
    return `must hold at most ${max} ${noun} (docs/config-limits.md), got ${value.length}`;
  if (value.length < min) return `must hold ${shape}, got ${value.length}`;
  return undefined;
}

/**
 * An array of `bounds.min` to `bounds.max` items, checked by one constraint with one message: a missing field
 * is said to be required (not "must contain no more than 5000 elements", which class-validator's ArrayMaxSize
 * says of anything that is not an array). Put @IsOptional() before it where the field may be left out; the items
 * are still checked by @ValidateNested.
 */
export function IsArrayOf(bounds: ArrayBounds, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: ARRAY_CONSTRAINT,
      validator: {
        validate: (value) => arrayProblem(value, bounds) === undefined,
        defaultMessage: (args) => `${args?.property} ${arrayProblem(args?.value, bounds) ?? 'is invalid'}`,
      },
    },
    options,
  );
}
