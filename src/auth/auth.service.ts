import { Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { AuditService, UNAUTHENTICATED } from '../audit/audit.service.js';
import { TokensService } from '../tokens/tokens.service.js';
import { looksLikeApiToken } from '../tokens/token-format.js';
import { UsersService } from '../users/users.service.js';
import { sourceAddressOf } from '../common/change-context.js';
import type { Caller } from './caller.js';
import { bearerOf, sessionCookieOf } from './credentials.js';
import type { LoginDto, LoginResponseDto } from './dto/login.dto.js';
import { LoginSessionsService, type StartedLogin } from './login-sessions.service.js';
import type { Actor } from './roles.js';

export interface Authenticated {
  actor: Actor;
  loginSessionId?: number;
}

/** Who a request is, from its bearer token or session cookie; and logging in and out. */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly logins: LoginSessionsService,
    private readonly audit: AuditService,
  ) {}

  /**
   * The identity a request presents: null when it presents none. Credentials that are presented but not valid
   * are refused outright (401) rather than treated as anonymous, so a revoked token never falls back to a cookie.
   */
  async authenticate(request: Request): Promise<Authenticated | null> {
    const bearer = bearerOf(request);
    if (bearer !== undefined) {
      if (bearer === '') throw new UnauthorizedException('the Authorization header must be "Bearer <token>"');
      if (LoginSessionsService.isLoginBearer(bearer)) {
        const login = await this.logins.byBearer(bearer);
        if (!login)
          throw new UnauthorizedException('the login token has expired or was logged out; log in again');
        return { actor: login.actor, loginSessionId: login.id };
      }
      const actor = looksLikeApiToken(bearer) ? await this.tokens.authenticate(bearer) : null;
      if (!actor) throw new UnauthorizedException('the API token is not valid or has been revoked');
      return { actor };
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
