import { HttpException, SetMetadata } from '@nestjs/common';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { UnsupportedMediaTypeError } from './errors.js';
import { hasBody } from './json-body.js';

// The one kind of body the API reads that is not JSON: a file handed over as it is (a haproxy.cfg,
// POST /import/haproxy). Like a JSON body it is read only once the caller is known (AuthGuard), and
// only up to the route's limit.

export const TEXT_BODY = 'tether:text-body';

/** The route takes a `text/plain` body of at most `limit` (e.g. '1mb') instead of JSON. */
export const TextBody = (limit: string) => SetMetadata(TEXT_BODY, limit);

const parsers = new Map<string, RequestHandler>();

function parserFor(limit: string): RequestHandler {
  let parser = parsers.get(limit);
  if (!parser) {
    parser = express.text({ limit, type: 'text/plain' });
    parsers.set(limit, parser);
  }
  return parser;
}

/**
 * Reads a `text/plain` body into `request.body` (a string); false if there was none. 413 past the
 * limit, 415 for another type, 400 for a charset it cannot decode (all with the field `body`).
 */
export async function readTextBody(request: Request, response: Response, limit: string): Promise<boolean> {
  if (!hasBody(request)) return false;
  if (!request.is('text/plain')) {
    throw new UnsupportedMediaTypeError(
      `Content-Type must be text/plain, got ${request.headers['content-type'] ?? 'nothing'}`,
      'Content-Type',
    );
  }
  await new Promise<void>((resolve, reject) => {
    parserFor(limit)(request, response, (error?: unknown) => {
      if (error === undefined) return resolve();
      const status = (error as { status?: unknown }).status;
      reject(
        typeof status === 'number' && status >= 400 && status < 500
          ? new HttpException((error as Error).message, status, { cause: error })
          : error,
      );
    });
  });
  return true;
}
