import helmet from 'helmet';
import type { RequestHandler } from 'express';

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
