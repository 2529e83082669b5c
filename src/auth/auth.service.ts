import { HttpException, HttpStatus, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { AuditService, UNAUTHENTICATED } from '../audit/audit.service.js';
import { TokensService } from '../tokens/tokens.service.js';
import { looksLikeApiToken } from '../tokens/token-format.js';
import { UsersService } from '../users/users.service.js';
import { sourceAddressOf } from '../common/change-context.js';
import { SETTINGS, type Settings } from '../settings.js';
import { authSettingsOf } from './auth-settings.js';
import type { Caller } from './caller.js';
import { bearerOf, sessionCookieOf } from './credentials.js';
import type { LoginDto, LoginResponseDto } from './dto/login.dto.js';
import { FailureWindow } from './failure-window.js';
import { LoginSessionsService, type StartedLogin } from './login-sessions.service.js';
import { throttleKeyOfRequest } from './throttle-key.js';
import type { Actor } from './roles.js';

export interface Authenticated {
  actor: Actor;
  loginSessionId?: number;
}

/** Who a request is, from its bearer token or session cookie; and logging in and out. */
@Injectable()
export class AuthService {
  /** Bearer tokens refused per source (address, or IPv6 /64): a source that keeps guessing gets 429 without any lookup. */
  private readonly badBearers: FailureWindow;
  private readonly badBearerLimit: number;

  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly logins: LoginSessionsService,
    private readonly audit: AuditService,
    @Inject(SETTINGS) settings: Settings,
  ) {
    this.badBearerLimit = authSettingsOf(settings).badTokensPerMinute;
    this.badBearers = new FailureWindow(this.badBearerLimit);
  }

  /**
   * The identity a request presents: null when it presents none. Credentials that are presented but not valid
   * are refused outright (401) rather than treated as anonymous, so a revoked token never falls back to a cookie.
   */
  async authenticate(request: Request): Promise<Authenticated | null> {
    const bearer = bearerOf(request);
    if (bearer !== undefined) {
      const source = throttleKeyOfRequest(request);
      await this.refuseIfThrottled(request, source);
      // Counted as a failure while it is checked, and taken back if it holds: otherwise a burst of guesses sent at
      // once would all pass the limit above before the first was counted (each one a scrypt hash for a token stored
      // before SHA-256 hashes).
      this.badBearers.fail(source);
      const found = await this.byBearer(bearer).catch((error: unknown) => {
        this.badBearers.forgive(source);
        throw error;
      });
      if ('refused' in found) throw new UnauthorizedException(found.refused);
      this.badBearers.forgive(source);
      return found;
    }
    const cookie = sessionCookieOf(request);
    if (cookie !== undefined) {
      const login = await this.logins.byCookie(cookie);
      if (!login)
        throw new UnauthorizedException('the console session has expired or was logged out; log in again');
      return { actor: login.actor, loginSessionId: login.id };
    }
    return null;
  }

  /**
   * Whether the credentials a request was let in with still hold, and for whom now: for long-lived answers (the stats
   * stream) that must end once a token is revoked, a login ended or a user deleted. Not counted as use or activity.
   */
  async recheck(request: Request): Promise<Authenticated | null> {
    const bearer = bearerOf(request);
    if (bearer !== undefined) {
      const found = await this.byBearer(bearer, false);
      return 'refused' in found ? null : found;
    }
    const cookie = sessionCookieOf(request);
    const login = cookie === undefined ? null : await this.logins.byCookie(cookie, false);
    return login ? { actor: login.actor, loginSessionId: login.id } : null;
  }

  private async byBearer(bearer: string, touch = true): Promise<Authenticated | { refused: string }> {
    if (bearer === '') return { refused: 'the Authorization header must be "Bearer <token>"' };
    if (LoginSessionsService.isLoginBearer(bearer)) {
      const login = await this.logins.byBearer(bearer, touch);
      if (!login) return { refused: 'the login token has expired or was logged out; log in again' };
      return { actor: login.actor, loginSessionId: login.id };
    }
    const actor = looksLikeApiToken(bearer) ? await this.tokens.authenticate(bearer, touch) : null;
    if (!actor) return { refused: 'the API token is not valid or has been revoked' };
    return { actor };
  }

  /** 429 with Retry-After for a source over its failed-token limit; recorded once per source and minute. */
  private async refuseIfThrottled(request: Request, source: string): Promise<void> {
    const wait = this.badBearers.retryAfterSeconds(source);
    if (wait === 0) return;
    request.res?.setHeader('Retry-After', String(wait));
    await this.audit.recordThrottled({
      sourceAddress: source,
      action: 'auth.token',
      detail: `more than ${this.badBearerLimit} refused tokens a minute from this address`,
    });
    throw new HttpException(
      `too many refused tokens from this address; try again in ${wait} s`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }

  async login(dto: LoginDto, request: Request): Promise<{ started: StartedLogin; body: LoginResponseDto }> {
    const sourceAddress = sourceAddressOf(request);
    const user = await this.users.verifyPassword(dto.username, dto.password);
    if (!user) {
      await this.audit.record({
        actor: UNAUTHENTICATED,
        sourceAddress,
        action: 'auth.login',
        target: dto.username,
        result: 'denied',
        detail: 'wrong username or password',
      });
      throw new UnauthorizedException('wrong username or password');
    }
    const started = await this.logins.start(user, sourceAddress);
    const actor: Actor = { username: user.username, role: user.role };
    await this.audit.record({
      actor,
      sourceAddress,
      action: 'auth.login',
      target: user.username,
      result: 'ok',
    });
    return {
      started,
      body: {
        token: started.bearer,
        expiresAt: started.bearerExpiresAt.toISOString(),
        user: { username: user.username, role: user.role },
      },
    };
  }

  /** Ends the console login the request carries, if any; true if one was ended. */
  async logout(request: Request): Promise<boolean> {
    let found: Authenticated | null;
    try {
      found = await this.authenticate(request);
    } catch {
      return false;
    }
    if (found?.loginSessionId === undefined) return false;
    await this.logins.end(found.loginSessionId);
    const caller: Caller = { actor: found.actor, sourceAddress: sourceAddressOf(request) };
    await this.audit.record({ ...caller, action: 'auth.logout', target: found.actor.username, result: 'ok' });
    return true;
  }
}
