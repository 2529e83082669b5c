import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { sourceAddressOf } from '../common/change-context.js';

/** Limits login attempts per source address (the peer address; no proxy headers are trusted). */
@Injectable()
export class LoginThrottleGuard extends ThrottlerGuard {
  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return sourceAddressOf(request as never) ?? 'unknown';
  }
}
