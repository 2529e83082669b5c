// The app's own logs (start, applies, errors; not the session lines, which session-log.ts writes on their own
// stream): pino JSON through nestjs-pino, one logger for the whole app, at TETHER_LOG_LEVEL. HTTP requests are
// logged only at debug or verbose, one line each, with no headers, cookies, bodies or query strings
// (docs/session-logs.md, "The app's own logs").
import type { DynamicModule, LogLevel } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { pino, type Level, type Logger } from 'pino';

/** Nest's level names → pino's. */
const PINO_LEVEL: Record<LogLevel, Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Bytes of app log lines held for a stalled stdout before new ones are dropped: nothing grows without bound. */
const MAX_BUFFERED = 4 * 1024 * 1024;

/** A line sink; pino writes each line with one call. */
export interface LineSink {
  write(line: string): unknown;
}

/**
 * process.stdout, as Nest's own logger wrote (so whatever captures stdout still sees the app's lines), but
 * bounded: past MAX_BUFFERED bytes not yet taken by the reader, lines are dropped rather than queued.
 */
export const boundedStdout: LineSink & { dropped: number } = {
  dropped: 0,
  write(line: string): boolean {
    if (process.stdout.writableLength > MAX_BUFFERED) {
      this.dropped++;
      return true;
    }
    return process.stdout.write(line);
  },
};

/** Belt and braces: whatever a log call is handed, these never reach the output. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'cookie',
  'password',
  'secret',
  '*.password',
  '*.secret',
];

export interface AppLoggerOptions {
  level: LogLevel;
  /** Where the lines go (default: boundedStdout). */
  destination?: LineSink;
}

export function createAppPino(options: AppLoggerOptions): Logger {
  return pino(
    {
      level: PINO_LEVEL[options.level],
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination ?? boundedStdout,
  );
}

/** The request as pino-http hands it to a serializer (already mapped by pino-std-serializers). */
interface MappedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  remoteAddress?: string;
}

/**
 * What one request line says: method, path (the query left out: it may carry a secret), status, client. Headers
 * (Authorization, Cookie), bodies and the query never reach a line.
 */
const requestSerializers = {
  req: (req: MappedRequest) => ({
    id: req.id,
    method: req.method,
    path: (req.url ?? '').split('?')[0],
    remoteAddress: req.remoteAddress,
  }),
  res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
};

/** nestjs-pino's module: `app.useLogger(app.get(Logger))` (nestjs-pino's Logger) then routes Nest's logs to `logger`. */
export function appLoggerModule(logger: Logger, level: LogLevel): DynamicModule {
  const requestLines = level === 'debug' || level === 'verbose';
  return LoggerModule.forRoot({
    pinoHttp: {
      logger,
      // Quiet by default: no line per request unless debugging, and then one (at debug).
      autoLogging: requestLines,
      customLogLevel: () => 'debug',
      // Logs made while serving a request carry its id only, never the request itself.
      quietReqLogger: true,
      serializers: requestSerializers,
    },
  });
}
