import { ValidationPipe, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import type { ValidationError as ClassValidatorError } from 'class-validator';
import { sizeIssues } from '../schema/check.js';
import { ARRAY_CONSTRAINT, bytesLengthProblems } from './validators.js';
import { LimitExceededError, MAX_ERROR_ENTRIES, ValidationError, type ErrorEntry } from './errors.js';

/**
 * The one global pipe: a body over the config's documented limits is refused (413) before anything
 * else looks at it; then unknown fields are refused, and the error names every bad field by its path.
 */
export function createValidationPipe(): ValidationPipe {
  return new LimitedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // The refused object, for bytesLengthProblems (toValidationError sends messages only, never the object).
    validationError: { target: true },
    exceptionFactory: (errors) => toValidationError(errors),
  });
}

class LimitedValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') refuseOversizedDocument(value);
    return super.transform(value, metadata);
  }

  /**
   * Path parameters stay the strings they were: Number('0x10') is 16 and Number('1e3') 1000, so a
   * number parameter is read by its own pipe (numericParam), which takes plain decimals only.
   */
  protected override transformPrimitive(value: unknown, metadata: ArgumentMetadata): unknown {
    return metadata.type === 'param' ? value : super.transformPrimitive(value, metadata);
  }
}

/** Counting is linear and cheap; validating and checking 10,000 frontends is not (docs/config-limits.md). */
function refuseOversizedDocument(body: unknown): void {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const issues = sizeIssues(body as Record<string, unknown>);
  if (issues.length === 0) return;
  const entries: ErrorEntry[] = issues.map((i) => ({
    field: i.field,
    code: 'LIMIT_EXCEEDED',
    message: i.message,
  }));
  throw new LimitExceededError(entries[0].message, entries[0].field, entries);
}

export function toValidationError(errors: ClassValidatorError[]): ValidationError {
  const found = errors.flatMap((error) => flatten(error, ''));
  // Fields the document check would refuse too, which it never sees once the DTOs refused the request.
  const named = new Set(found.map((p) => p.field));
  const root = errors[0]?.target;
  const more = bytesLengthProblems(root, '', MAX_ERROR_ENTRIES, joinPath).filter((p) => !named.has(p.field));
  const problems = [...found, ...more].slice(0, MAX_ERROR_ENTRIES);
  const first = problems[0] ?? { field: '', message: 'invalid request' };
  return new ValidationError(
    first.message,
    first.field || undefined,
    problems.map((p) => ({ field: p.field, code: 'VALIDATION_FAILED', message: p.message })),
  );
}

function flatten(error: ClassValidatorError, parent: string): Array<{ field: string; message: string }> {
  const field = joinPath(parent, error.property);
  const constraints = Object.entries(error.constraints ?? {});
  // An array field that is missing or no array (validators.ts, IsArrayOf) gets that one message: "each value in
  // nested property x must be either object or array", or the fields of an object sent instead, only repeat it.
  const notAnArray = error.constraints?.[ARRAY_CONSTRAINT] !== undefined;
  const shown = notAnArray ? constraints.filter(([c]) => c !== 'nestedValidation') : constraints;
  const own = shown.map(([constraint, message]) => ({
    field,
    message:
      constraint === 'whitelistValidation'
        ? `property ${field} should not exist`
        : message.startsWith(`${error.property} `)
          ? field + message.slice(error.property.length)
          : `${field}: ${message}`,
  }));
  if (notAnArray) return own;
  return [...own, ...(error.children ?? []).flatMap((child) => flatten(child, field))];
}

export function joinPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent ? `${parent}.${property}` : property;
}

/** A plain decimal id: digits only, no sign, exponent, hex prefix or leading zero, at most 15 digits. */
const PLAIN_DECIMAL = /^(?:0|[1-9]\d{0,14})$/;

/** Path parameter that must be a whole number (a revision or token id); refused naming the parameter. */
export function numericParam(name: string, what: string): PipeTransform<string, number> {
  return {
    transform(value: string): number {
      if (typeof value !== 'string' || !PLAIN_DECIMAL.test(value)) {
        throw new ValidationError(
          `${name} must be ${what} written in plain decimal digits, got "${String(value)}"`,
          name,
        );
      }
      return Number(value);
    },
  };
}
