import { STATUS_CODES } from 'node:http';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ApplyError, DomainError } from './errors.js';

/** The one error shape of the whole API. `code` and `field` are added when known. */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code?: string;
  field?: string;
  cause?: string;
}

/** Maps every error to `{ statusCode, error, message }`; unknown errors are logged once and answered as 500. */
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
      const body = errorBody(exception.status, exception.message);
      body.code = exception.code;
      if (exception.field) body.field = exception.field;
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
      return errorBody(exception.getStatus(), message);
    }
    this.logger.error(
      exception instanceof Error ? exception.message : String(exception),
      exception instanceof Error ? exception.stack : undefined,
    );
    return errorBody(500, 'Internal server error');
  }
}

function errorBody(statusCode: number, message: string): ApiErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

function messageOf(message: unknown): string | undefined {
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : undefined;
}

/** Malformed JSON and oversized bodies: the field at fault is the body itself. */
function bodyParserError(status: number, error: Error & { type?: string }): ApiErrorBody {
  const body =
    error.type === 'entity.parse.failed'
      ? errorBody(status, `body is not valid JSON: ${error.message}`)
      : errorBody(status, `body: ${error.message}`);
  body.field = 'body';
  return body;
}
