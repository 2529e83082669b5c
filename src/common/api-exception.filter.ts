import { STATUS_CODES } from 'node:http';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ApplyError, DomainError, type DomainErrorCode, type ErrorEntry } from './errors.js';

/**
 * The one error shape of the whole API (docs/api-errors.md). `errors` lists every problem found;
 * `message`, `code` and `field` repeat its first entry, so older clients reading those keep working.
 */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code: DomainErrorCode;
  field?: string;
  errors: ErrorEntry[];
  cause?: string;
}

/** Maps every error to ApiErrorBody; unknown errors are logged once and answered as 500. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Api');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (response.headersSent) {
      // A streamed response (SSE, say) failed half-way: all we can do is end it.
      response.end();
      return;
    }
    response.status(body.statusCode).json(body);
  }

  toBody(exception: unknown): ApiErrorBody {
    // Nest wraps what Express's middleware throws (body-parser, our JSON checks) in an HttpException.
    if (exception instanceof HttpException && exception.cause !== undefined) {
      const cause = exception.cause as Error & { type?: string };
      if (cause instanceof DomainError) return this.toBody(cause);
      if (typeof cause.type === 'string' && cause.type.startsWith('entity.')) {
        return bodyParserError(exception.getStatus(), cause);
      }
    }
    if (exception instanceof DomainError) {
      const body = errorBody(exception.status, exception.errors);
      if (exception instanceof ApplyError && exception.cause_code) body.cause = exception.cause_code;
      // Domain errors are expected outcomes; the service that threw a 5xx one has logged its cause.
      return body;
    }
    if (exception instanceof HttpException) {
      const payload = exception.getResponse();
      const message =
        typeof payload === 'string'
          ? payload
          : (messageOf((payload as { message?: unknown }).message) ?? exception.message);
      const status = exception.getStatus();
      return errorBody(status, [{ field: '', code: codeOfStatus(status), message }]);
    }
    this.logger.error(
      exception instanceof Error ? exception.message : String(exception),
      exception instanceof Error ? exception.stack : undefined,
    );
    return errorBody(500, [{ field: '', code: 'INTERNAL', message: 'Internal server error' }]);
  }
}

/** The body for `entries` (at least one): the top-level message, code and field are the first entry's. */
function errorBody(statusCode: number, entries: ErrorEntry[]): ApiErrorBody {
  const [first] = entries;
  const body: ApiErrorBody = {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message: first.message,
    code: first.code,
    errors: entries,
  };
  if (first.field) body.field = first.field;
  return body;
}

/** The code of an HttpException that no service raised (the auth guard's 401/403, Nest's 404, throttling). */
function codeOfStatus(status: number): DomainErrorCode {
  const codes: Record<number, DomainErrorCode> = {
    400: 'VALIDATION_FAILED',
    401: 'UNAUTHENTICATED',
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    409: 'CONFLICT',
    412: 'STALE_REVISION',
    413: 'LIMIT_EXCEEDED',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    429: 'TOO_MANY_REQUESTS',
    503: 'UNAVAILABLE',
  };
  return codes[status] ?? (status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED');
}

function messageOf(message: unknown): string | undefined {
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : undefined;
}

/** Malformed JSON and oversized bodies: the field at fault is the body itself. */
function bodyParserError(status: number, error: Error & { type?: string }): ApiErrorBody {
  const message =
    error.type === 'entity.parse.failed'
      ? `body is not valid JSON: ${error.message}`
      : `body: ${error.message}`;
  return errorBody(status, [{ field: 'body', code: codeOfStatus(status), message }]);
}
