import { SetMetadata } from '@nestjs/common';
import type { Request, Response } from 'express';
import { readBody } from './json-body.js';

// The one kind of body the API reads that is not JSON: a file handed over as it is (a haproxy.cfg,
// POST /import/haproxy). Like a JSON body it is read only once the caller is known (AuthGuard), and
// only up to the route's limit.

export const TEXT_BODY = 'tether:text-body';

/** The route takes a `text/plain` body of at most `limit` (e.g. '1mb') instead of JSON. */
export const TextBody = (limit: string) => SetMetadata(TEXT_BODY, limit);

/**
 * Reads a `text/plain` body into `request.body` (a string); false if there was none. 413 past the
 * limit, 415 for another type, 400 for a charset it cannot decode (all with the field `body`).
 */
export function readTextBody(request: Request, response: Response, limit: string): Promise<boolean> {
  return readBody(request, response, { type: 'text/plain' }, limit);
}
