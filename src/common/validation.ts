import { ParseIntPipe, ValidationPipe } from '@nestjs/common';
import type { ValidationError as ClassValidatorError } from 'class-validator';
import { ValidationError } from './errors.js';

/** The one global pipe: unknown fields are refused, and the error names the first bad field by its path. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => toValidationError(errors),
  });
}

/** Problems spelled out in one answer: a body of 200,000 bad entries made a 54 MB answer listing each. */
export const MAX_REPORTED_PROBLEMS = 20;

export function toValidationError(errors: ClassValidatorError[]): ValidationError {
  const problems = errors.flatMap((error) => flatten(error, ''));
  const first = problems[0] ?? { field: undefined, message: 'invalid request' };
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS).map((p) => p.message);
  if (problems.length > shown.length) shown.push(`and ${problems.length - shown.length} more problem(s)`);
  return new ValidationError(shown.join('; '), first.field);
}

function flatten(error: ClassValidatorError, parent: string): Array<{ field: string; message: string }> {
  const field = joinPath(parent, error.property);
  const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({
    field,
    message:
      constraint === 'whitelistValidation'
        ? `property ${field} should not exist`
        : message.startsWith(`${error.property} `)
          ? field + message.slice(error.property.length)
          : `${field}: ${message}`,
  }));
  return [...own, ...(error.children ?? []).flatMap((child) => flatten(child, field))];
}

export function joinPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent ? `${parent}.${property}` : property;
}

/** Path parameter that must be a whole number (a revision or token id); refused naming the parameter. */
export function numericParam(name: string, what: string): ParseIntPipe {
  return new ParseIntPipe({ exceptionFactory: () => new ValidationError(`${name} must be ${what}`, name) });
}
