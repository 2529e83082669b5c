import type { NextFunction, Request, Response } from 'express';
import { UnsupportedMediaTypeError, ValidationError } from './errors.js';

// The API speaks JSON only. Bodies of another type are refused rather than guessed at, and a key that
// would reach an object's prototype is refused right after parsing, before any validation sees the object.

/** Largest accepted JSON body: a whole snapshot of a big installation fits many times over. */
export const jsonBodyOptions = { limit: '2mb' };

/** Express middleware: a request that carries a body must say it is JSON (415 otherwise). */
export function requireJsonBody(request: Request, _response: Response, next: NextFunction): void {
  const length = request.headers['content-length'];
  const hasBody =
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !request.is('application/json')) {
    next(
      new UnsupportedMediaTypeError(
        `Content-Type must be application/json, got ${request.headers['content-type'] ?? 'nothing'}`,
        'Content-Type',
      ),
    );
    return;
  }
  next();
}

/** Express middleware, after the JSON parser: JSON.parse keeps `__proto__` as an own key; refuse it. */
export function refusePrototypeKeys(request: Request, _response: Response, next: NextFunction): void {
  next(
    hasPrototypeKey(request.body)
      ? new ValidationError('property __proto__ is not allowed', '__proto__')
      : undefined,
  );
}

function hasPrototypeKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
  return Object.values(value).some(hasPrototypeKey);
}
