import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import { AuditService } from '../audit/audit.service.js';
import { throttleKeyOfRequest } from './throttle-key.js';

/** Limits login attempts per source (the peer address, an IPv6 one as its /64; no proxy headers are trusted).
 *  Refused attempts are audited like failed logins, one row per address and minute with their count: a brute force
 *  shows in the audit log without filling it. */
@Injectable()
export class LoginThrottleGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly audit: AuditService,
  ) {
    super(options, storage, reflector);
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return throttleKeyOfRequest(request as never);
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const request = context.switchToHttp().getRequest<Request>();
    const username: unknown = request.body?.username;
    await this.audit.recordThrottled({
      sourceAddress: throttleKeyOfRequest(request),
      action: 'auth.login',
      target: typeof username === 'string' ? username.slice(0, 64) : undefined,
      detail: `more than ${detail.limit} attempts a minute from this address`,
    });
    return super.throwThrottlingException(context, detail);
  }
}
