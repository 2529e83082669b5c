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
    // body-parser errors (malformed JSON, body too large) carry an HTTP status of their own.
    const status = (exception as { status?: unknown; expose?: unknown })?.status;
    if (
      typeof status === 'number' &&
      status >= 400 &&
      status < 500 &&
      (exception as { expose?: boolean }).expose
    ) {
      return errorBody(status, (exception as Error).message);
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
