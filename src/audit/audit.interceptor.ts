import {
  HttpException,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { catchError, from, mergeMap, throwError, type Observable } from 'rxjs';
import { actorOf, type Actor } from '../auth/roles.js';
import { sourceAddressOf } from '../common/change-context.js';
import { DomainError, ForbiddenError } from '../common/errors.js';
import { AUDIT_ACTION } from './audited.decorator.js';
import { AuditService } from './audit.service.js';

/** Records every failed call of an @Audited route, including requests refused by validation. */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const action = this.reflector.get<string | undefined>(AUDIT_ACTION, context.getHandler());
    if (!action || context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<Request & { user?: Actor }>();
    return next.handle().pipe(
      catchError((error: unknown) => {
        const entry = {
          actor: actorOf(request),
          sourceAddress: sourceAddressOf(request),
          action,
          target: auditTargetOf(request),
          detail: describe(error),
        };
        // Refusals and failures are counted per caller and minute past the first few: a looping script can't fill the log.
        const recorded = isDenial(error)
          ? this.audit.recordDenied(entry)
          : this.audit.recordFailure({ ...entry, result: 'failed' });
        return from(recorded).pipe(mergeMap(() => throwError(() => error)));
      }),
    );
  }
}

/** Longest target recorded from a body: a client chooses it, so it is cut to the longest valid name. */
const TARGET_MAX_LENGTH = 64;

/** `sms`, `ismg/gw1`, `12`: the route's parameters, else the name (or username) in the body, cut to 64 characters. */
export function auditTargetOf(request: Request): string | undefined {
  const params = Object.values(request.params ?? {}).filter((v) => typeof v === 'string' && v !== '');
  if (params.length > 0) return params.join('/');
  const body = request.body as { name?: unknown; username?: unknown } | undefined;
  const name = typeof body?.name === 'string' ? body.name : body?.username;
  return typeof name === 'string' ? name.slice(0, TARGET_MAX_LENGTH) : undefined;
}

function isDenial(error: unknown): boolean {
  if (error instanceof ForbiddenError) return true;
  return error instanceof HttpException && (error.getStatus() === 401 || error.getStatus() === 403);
}

function describe(error: unknown): string {
  if (error instanceof DomainError || error instanceof HttpException) {
    const status = error instanceof DomainError ? error.status : error.getStatus();
    return `${status} ${error.message}`;
  }
  return error instanceof Error ? `500 ${error.message}` : '500 unknown error';
}
