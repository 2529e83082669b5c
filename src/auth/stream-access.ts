import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import {
  catchError,
  defer,
  exhaustMap,
  filter,
  finalize,
  from,
  of,
  takeUntil,
  throwError,
  timer,
  type Observable,
} from 'rxjs';
import { AuthService } from './auth.service.js';
import { roleAllows, type Actor, type Role } from './roles.js';

/** How often a long-lived answer checks that its credentials still hold. */
export const STREAM_RECHECK_MS = 2000;
/** Long-lived answers (event streams) one user may hold open at once; the next answers 429. */
export const STREAMS_PER_USER = 8;

/**
 * Access rules for long-lived answers such as the stats event stream, whose request passed the guard once but which
 * may run for hours: a stream ends within STREAM_RECHECK_MS of its token being revoked, its login ended or its user
 * deleted or demoted below the route's role, and each user holds at most STREAMS_PER_USER of them.
 */
@Injectable()
export class StreamAccess {
  private readonly open = new Map<string, number>();

  constructor(private readonly auth: AuthService) {}

  /** `stream`, for the caller of `request` (already let in by AuthGuard with at least `role`). */
  hold<T>(request: Request, role: Role, stream: Observable<T>): Observable<T> {
    return defer(() => {
      const key = holderOf(request);
      const held = this.open.get(key) ?? 0;
      if (held >= STREAMS_PER_USER) {
        request.res?.setHeader('Retry-After', String(Math.ceil(STREAM_RECHECK_MS / 1000)));
        return throwError(
          () =>
            new HttpException(
              `at most ${STREAMS_PER_USER} event streams per user are open at once; close one first`,
              HttpStatus.TOO_MANY_REQUESTS,
            ),
        );
      }
      this.open.set(key, held + 1);
      const revoked = timer(STREAM_RECHECK_MS, STREAM_RECHECK_MS).pipe(
        exhaustMap(() => from(this.auth.recheck(request)).pipe(catchError(() => of(null)))),
        filter((found) => !found || !roleAllows(found.actor.role, role)),
      );
      return stream.pipe(
        takeUntil(revoked),
        finalize(() => {
          const left = (this.open.get(key) ?? 1) - 1;
          if (left > 0) this.open.set(key, left);
          else this.open.delete(key);
        }),
      );
    });
  }

  /** Streams open per holder: lets tests see that ended streams leave nothing behind. */
  get holders(): number {
    return this.open.size;
  }
}

function holderOf(request: Request): string {
  const actor = (request as Request & { user?: Actor }).user;
  if (actor?.userId !== undefined) return `user:${actor.userId}`;
  return `name:${actor?.username ?? 'unknown'}`;
}
