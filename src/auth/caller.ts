import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { sourceAddressOf } from '../common/change-context.js';
import { actorOf, type Actor } from './roles.js';

/** Who made a request and from where: what services need for the audit log and for self-protection rules. */
export interface Caller {
  actor: Actor;
  sourceAddress?: string;
  /** The console login the request came with, if any (not set for API tokens). */
  loginSessionId?: number;
}

type AuthenticatedRequest = Request & { user?: Actor; loginSessionId?: number };

export function callerOf(request: AuthenticatedRequest): Caller {
  return {
    actor: actorOf(request),
    sourceAddress: sourceAddressOf(request),
    loginSessionId: request.loginSessionId,
  };
}

/** Controller parameter: the Caller of this request. */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller =>
  callerOf(context.switchToHttp().getRequest<AuthenticatedRequest>()),
);
