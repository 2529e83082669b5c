import { Catch, type ArgumentsHost } from '@nestjs/common';
import type { Response } from 'express';
import { ApiExceptionFilter } from '../common/api-exception.filter.js';
import type { ImportWarning } from '../haproxy/parse.js';

// A refused import still tells what the parser found: its error body (docs/api-errors.md) carries
// the warnings next to `errors`.

const warningsOf = new WeakMap<object, ImportWarning[]>();

/** Marks `error` as raised while importing a file that gave these warnings; returns it. */
export function withWarnings(error: unknown, warnings: ImportWarning[]): unknown {
  if (typeof error === 'object' && error !== null) warningsOf.set(error, warnings);
  return error;
}

/** The API's one error body, plus `warnings` when the import got as far as reading the file. */
@Catch()
export class ImportExceptionFilter extends ApiExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return super.catch(exception, host);
    const body = this.toBody(exception);
    const warnings =
      typeof exception === 'object' && exception !== null ? warningsOf.get(exception) : undefined;
    response.status(body.statusCode).json(warnings ? { ...body, warnings } : body);
  }
}
