import 'reflect-metadata';
import { RequestMethod, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module.js';
import { protectApiDocs } from './auth/api-docs-access.js';
import { noStore, securityHeaders } from './auth/security-headers.js';
import { httpsOptionsOf } from './auth/tls.js';
import { ApiExceptionFilter } from './common/api-exception.filter.js';
import { closeUnreadBodies } from './common/json-body.js';
import { createValidationPipe } from './common/validation.js';
import { DEFAULT_SETTINGS, logLevelsUpTo, type Settings } from './settings.js';

export const API_PREFIX = 'api/v1';
export const DOCS_PATH = 'api/docs';

/**
 * Builds the whole application, configured exactly as it runs in production; main.ts and the tests
 * both use it and only differ in where they listen.
 */
export async function createApp(overrides: Partial<Settings> = {}): Promise<INestApplication> {
  const settings: Settings = { ...DEFAULT_SETTINGS, ...overrides };
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(settings), {
    logger: logLevelsUpTo(settings.logLevel),
    // With pino, what is logged before useLogger below waits for it (then goes out as JSON too).
    bufferLogs: settings.logFormat === 'json',
    // Long-lived responses (the SSE stats stream) must not hold up a shutdown.
    forceCloseConnections: true,
    return503OnClosing: true,
    bodyParser: false,
    httpsOptions: httpsOptionsOf(settings),
  });
  if (settings.logFormat === 'json') app.useLogger(app.get(PinoNestLogger));
  app.use(securityHeaders(Boolean(settings.tlsCert)));
  app.use(noStore);
  app.use(closeUnreadBodies);
  // No body parser here: AuthGuard reads JSON bodies once the caller is known (common/json-body.ts).
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: '/', method: RequestMethod.ALL },
      { path: 'healthz', method: RequestMethod.ALL },
      { path: 'metrics', method: RequestMethod.ALL },
    ],
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter());
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Tether')
      .setDescription(
        'TCP load balancer for CMPP/SMPP gateways. Errors: `{ statusCode, error, message, code, field, errors }`, ' +
          '`errors` listing every problem by its field (docs/api-errors.md). ' +
          'Every config change is applied live, then stored as one revision (also the ETag); `If-Match: "<revision>"` ' +
          'refuses a change made on a stale revision (412).',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  protectApiDocs(app, DOCS_PATH);
  SwaggerModule.setup(DOCS_PATH, app, document, { useGlobalPrefix: false });
  return app;
}
