import { STATUS_CODES } from 'node:http';
import { HttpException, type INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AuthService } from './auth.service.js';

/**
 * The OpenAPI pages are plain Express routes (SwaggerModule), out of reach of the global guard: require a login or
 * a token of any role for them too. Must be installed before SwaggerModule.setup.
 */
export function protectApiDocs(app: INestApplication, docsPath: string): void {
  const auth = app.get(AuthService);
  const base = `/${docsPath.replace(/^\/+/, '')}`;
  app.use(
    [base, `${base}-json`, `${base}-yaml`],
    (request: Request, response: Response, next: NextFunction) => {
      auth.authenticate(request).then(
        (found) =>
          found ? next() : refuse(response, 401, 'authentication required: log in first, or send a token'),
        (error: unknown) =>
          error instanceof HttpException ? refuse(response, error.getStatus(), error.message) : next(error),
      );
    },
  );
}

function refuse(response: Response, statusCode: number, message: string): void {
  if (statusCode === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="tether"');
  // The API's one error shape (docs/api-errors.md).
  const code =
    statusCode === 403 ? 'FORBIDDEN' : statusCode === 429 ? 'TOO_MANY_REQUESTS' : 'UNAUTHENTICATED';
  response.status(statusCode).json({
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    code,
    errors: [{ field: '', code, message }],
  });
}
