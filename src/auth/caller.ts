import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
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

/** The peer address, without the IPv4-mapped prefix so the audit log reads 127.0.0.1, not ::ffff:127.0.0.1. */
export function sourceAddressOf(request: Request): string | undefined {
  const address = request.ip ?? request.socket?.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** Controller parameter: the Caller of this request. */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller =>
  callerOf(context.switchToHttp().getRequest<AuthenticatedRequest>()),
);
