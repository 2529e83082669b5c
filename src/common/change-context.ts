import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { actorOf, type Actor } from './actor.js';
import { changeTimingOf, type ChangeTiming } from './change-timing.js';
import { ValidationError } from './errors.js';
import { parseIfMatch } from './revision-tag.js';

/** Who asks for a change, from where, under which precondition, and why. */
export interface ChangeContext {
  actor: Actor;
  sourceAddress?: string;
  /** Revision the caller based the change on (If-Match); undefined = no precondition. */
  ifMatch?: number;
  /** Optional change message for the revision (`?message=`). */
  message?: string;
  /** Where the change's time goes (the Server-Timing header of a change route). */
  timing?: ChangeTiming;
}

export function changeContextOf(request: Request): ChangeContext {
  const message = request.query?.message;
  if (message !== undefined && (typeof message !== 'string' || message.length > 500)) {
    throw new ValidationError('message must be a string of at most 500 characters', 'message');
  }
  // A revision message is shown in lists and logs: control characters (newlines included) are refused.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(message ?? '')) {
    throw new ValidationError(
      'message must not contain control characters (line breaks included)',
      'message',
    );
  }
  return {
    actor: actorOf(request as Request & { user?: Actor }),
    sourceAddress: sourceAddressOf(request),
    ifMatch: parseIfMatch(request.headers['if-match']),
    message: message || undefined,
    timing: changeTimingOf(request),
  };
}

export function sourceAddressOf(request: Request): string | undefined {
  const address = request.ip ?? request.socket?.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Controller parameter: the ChangeContext of the current request. */
export const Change = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  changeContextOf(ctx.switchToHttp().getRequest<Request>()),
);
