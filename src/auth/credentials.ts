import type { Request } from 'express';

export const SESSION_COOKIE = 'tether_session';

/** The token of an `Authorization: Bearer <token>` header; '' if the header has another scheme; undefined if absent. */
export function bearerOf(request: Request): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  return match ? match[1] : '';
}

/** The session cookie's value, read straight from the Cookie header (no cookie-parser dependency needed). */
export function sessionCookieOf(request: Request): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = pair.slice(eq + 1).trim();
      return value.length > 0 ? value : undefined;
    }
  }
  return undefined;
}
