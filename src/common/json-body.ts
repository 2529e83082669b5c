import { HttpException } from '@nestjs/common';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { UnsupportedMediaTypeError, ValidationError } from './errors.js';

// The API speaks JSON only. Bodies of another type are refused rather than guessed at; a body is read only once the
// caller is known (AuthGuard calls readJsonBody), so an anonymous client cannot make the server parse megabytes;
// and a body nested deeper than MAX_JSON_DEPTH or holding a key that would reach an object's prototype is refused
// right after parsing, before any validation walks it.

/** Largest accepted JSON body: a whole snapshot of a big installation fits many times over. */
export const jsonBodyOptions = { limit: '2mb' };

/** Largest body a route open to anonymous callers (the login) reads: a username and a password. */
export const PUBLIC_JSON_BODY_LIMIT = '4kb';

/** Deepest nesting of objects and arrays a body may have; the deepest real document (a config) has about 5. */
export const MAX_JSON_DEPTH = 32;

/**
 * Most keys one object of a body may have; the widest real object (a frontend or server) has about 20. Validation
 * refuses unknown keys one by one, and 100,000 of them (1 MB) held the event loop for 19 s.
 */
export const MAX_JSON_KEYS = 1000;

const parsers = new Map<string, RequestHandler>();

/** One body-parser per kind and limit, made once. */
function parserFor(kind: BodyKind, limit: string): RequestHandler {
  const key = `${kind.type}|${limit}`;
  let parser = parsers.get(key);
  if (!parser) {
    parser =
      kind.type === 'application/json' ? express.json({ limit }) : express.text({ limit, type: kind.type });
    parsers.set(key, parser);
  }
  return parser;
}

/** A media type the API reads: JSON everywhere, `text/plain` where a route takes a file as it is. */
export interface BodyKind {
  type: 'application/json' | 'text/plain';
}

/**
 * Reads a body of `kind` into `request.body`, up to `limit`; false if there was none. Errors name the field `body`
 * (or `Content-Type`): 400 malformed, 413 too large, 415 another type.
 */
export async function readBody(
  request: Request,
  response: Response,
  kind: BodyKind,
  limit: string,
): Promise<boolean> {
  if (!hasBody(request)) return false;
  if (!request.is(kind.type)) {
    throw new UnsupportedMediaTypeError(
      `Content-Type must be ${kind.type}, got ${request.headers['content-type'] ?? 'nothing'}`,
      'Content-Type',
    );
  }
  await new Promise<void>((resolve, reject) => {
    parserFor(kind, limit)(request, response, (error?: unknown) => {
      if (error === undefined) return resolve();
      const status = (error as { status?: unknown }).status;
      // body-parser's own errors (malformed, too large, bad charset): the exception filter names `body` for them.
      reject(
        typeof status === 'number' && status >= 400 && status < 500
          ? new HttpException((error as Error).message, status, { cause: error })
          : error,
      );
    });
  });
  return true;
}

/**
 * Reads and checks the JSON body of an authenticated (or public) request into `request.body`; false if there was none.
 * Errors are answered with the field `body` (or `__proto__`, `Content-Type`): 400 malformed or too deep, 413 too
 * large, 415 not JSON.
 */
export async function readJsonBody(request: Request, response: Response, limit: string): Promise<boolean> {
  if (!(await readBody(request, response, { type: 'application/json' }, limit))) return false;
  checkShape(request.body);
  return true;
}

/**
 * Middleware: a request whose body is never read (refused before it was, or matching no route) has its connection
 * closed after the answer. Node would otherwise keep it alive and read the rest of the body to reach the next request,
 * letting an anonymous client stream any amount into the server after its 401. Reading the body to its end (as
 * readJsonBody does) gives the connection back its keep-alive.
 */
export function closeUnreadBodies(request: Request, response: Response, next: NextFunction): void {
  if (hasBody(request) && !request.complete) {
    const keepAlive = response.shouldKeepAlive;
    response.shouldKeepAlive = false;
    request.once('end', () => {
      if (!response.headersSent) response.shouldKeepAlive = keepAlive;
    });
  }
  next();
}

export function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * One walk, without recursion (so no depth can overflow the stack): refuses nesting deeper than MAX_JSON_DEPTH, objects
 * wider than MAX_JSON_KEYS and `__proto__` keys (JSON.parse keeps them as own keys).
 */
function checkShape(body: unknown): void {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: body, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      throw new ValidationError(`body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`, 'body');
    }
    if (Object.prototype.hasOwnProperty.call(value, '__proto__')) {
      throw new ValidationError('property __proto__ is not allowed', '__proto__');
    }
    const children = Object.values(value);
    if (!Array.isArray(value) && children.length > MAX_JSON_KEYS) {
      throw new ValidationError(`body has an object with more than ${MAX_JSON_KEYS} properties`, 'body');
    }
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: depth + 1 });
    }
  }
}
