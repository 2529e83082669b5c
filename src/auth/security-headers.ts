import helmet from 'helmet';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * helmet's headers for the API and the console. The console is self-contained (no outside host), so the default
 * CSP fits; HSTS and upgrade-insecure-requests only make sense over TLS, and would break a console reached by plain
 * HTTP on a LAN address.
 */
export function securityHeaders(tls: boolean): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      directives: { upgradeInsecureRequests: tls ? [] : null },
    },
    strictTransportSecurity: tls ? { maxAge: 15_552_000, includeSubDomains: false } : false,
  });
}

/**
 * `Cache-Control: no-store` on every answer, errors included: API answers carry login bearers, token secrets and live
 * state that no cache may keep. Set before routing so no path spelling escapes it; only the console's static files
 * replace it with their own caching (ConsoleModule's setHeaders).
 */
export function noStore(_request: Request, response: Response, next: NextFunction): void {
  response.setHeader('Cache-Control', 'no-store');
  next();
}
