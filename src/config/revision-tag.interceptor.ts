import {
  Injectable,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { map, type Observable } from 'rxjs';
import { changeTimingOf, startChangeTiming } from '../common/change-timing.js';
import { parseIfMatch, revisionTag } from '../common/revision-tag.js';
import { ConfigService } from './config.service.js';

const REVISION_IN_BODY = 'tether:revision-in-body';

/** The route's body may name its base revision (`revision`, PUT /config): a second If-Match. */
export const RevisionInBody = () => SetMetadata(REVISION_IN_BODY, true);

/**
 * The revision in and out of a change route. In: `If-Match` (and a body's `revision`) is checked
 * here, before the body's validation and the edit, so a stale request gets 412 whatever else is wrong
 * with it; ConfigService.commit checks again in the change's turn. Out: `ETag: "<revision>"`, the
 * body's `revision` when it has one, else the revision in effect, and `Server-Timing`: where a change's time
 * went (change-timing.ts).
 */
@Injectable()
export class RevisionTagInterceptor implements NestInterceptor {
  constructor(
    private readonly config: ConfigService,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    const change = request.method !== 'GET' && request.method !== 'HEAD';
    // Started by AuthGuard (its `auth` step) unless the route let the request in without credentials.
    const timing = change ? (changeTimingOf(request) ?? startChangeTiming(request)) : undefined;
    if (change) {
      this.config.assertCurrent(parseIfMatch(request.headers['if-match']));
      if (this.reflector.get<boolean | undefined>(REVISION_IN_BODY, context.getHandler())) {
        const revision = (request.body as { revision?: unknown } | undefined)?.revision;
        // A malformed revision is left to validation (400); only a well-formed stale one is a 412 here.
        if (Number.isSafeInteger(revision)) this.config.assertCurrent(revision as number);
      }
    }
    const response = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((body: unknown) => {
        const revision = (body as { revision?: unknown } | null)?.revision;
        response.setHeader(
          'ETag',
          revisionTag(typeof revision === 'number' ? revision : this.config.revision),
        );
        if (timing) {
          timing.mark('answer');
          response.setHeader('Server-Timing', timing.header());
        }
        return body;
      }),
    );
  }
}
