import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { LessThan, Repository } from 'typeorm';
import { SETTINGS, type Settings } from '../settings.js';
import type { UserEntity } from '../users/user.entity.js';
import { authSettingsOf, type AuthSettings } from './auth-settings.js';
import { LoginSessionEntity } from './login-session.entity.js';
import type { Actor } from './roles.js';
import { randomSecret } from './secret-hash.js';

const BEARER_PREFIX = 'tts_';

export interface StartedLogin {
  id: number;
  cookie: string;
  bearer: string;
  bearerExpiresAt: Date;
  expiresAt: Date;
}

export interface ActiveLogin {
  id: number;
  actor: Actor;
}

/** Server-side console logins: what the session cookie and the login bearer token point to. */
@Injectable()
export class LoginSessionsService {
  private readonly config: AuthSettings;

  constructor(
    @InjectRepository(LoginSessionEntity) private readonly logins: Repository<LoginSessionEntity>,
    @Inject(SETTINGS) settings: Settings,
  ) {
    this.config = authSettingsOf(settings);
  }

  get settings(): AuthSettings {
    return this.config;
  }

  async start(user: UserEntity, sourceAddress: string | undefined): Promise<StartedLogin> {
    const now = Date.now();
    await this.logins.delete({ expiresAt: LessThan(new Date(now)) });
    const cookie = randomSecret();
    const bearer = BEARER_PREFIX + randomSecret();
    const login = await this.logins.save(
      this.logins.create({
        userId: user.id,
        cookieHash: digest(cookie),
        bearerHash: digest(bearer),
        sourceAddress: sourceAddress ?? null,
        lastSeenAt: new Date(now),
        expiresAt: new Date(now + this.config.sessionMaxMs),
        bearerExpiresAt: new Date(now + Math.min(this.config.loginTokenTtlMs, this.config.sessionMaxMs)),
      }),
    );
    return {
      id: login.id,
      cookie,
      bearer,
      bearerExpiresAt: login.bearerExpiresAt,
      expiresAt: login.expiresAt,
    };
  }

  /**
   * The login a session cookie belongs to, if it is still alive; slides its idle expiry unless `touch` is false
   * (a re-check of a long-lived stream is not activity).
   */
  byCookie(cookie: string, touch = true): Promise<ActiveLogin | null> {
    return this.resume({ cookieHash: digest(cookie) }, false, touch);
  }

  /** The login a bearer token from POST /auth/login belongs to, if both are still alive. */
  byBearer(bearer: string, touch = true): Promise<ActiveLogin | null> {
    return this.resume({ bearerHash: digest(bearer) }, true, touch);
  }

  async end(id: number): Promise<void> {
    await this.logins.delete({ id });
  }

  static isLoginBearer(token: string): boolean {
    return token.startsWith(BEARER_PREFIX);
  }

  private async resume(
    where: { cookieHash: string } | { bearerHash: string },
    viaBearer: boolean,
    touch: boolean,
  ): Promise<ActiveLogin | null> {
    const login = await this.logins.findOne({ where, relations: { user: true } });
    if (!login) return null;
    const now = Date.now();
    const idle = now - login.lastSeenAt.getTime() > this.config.sessionIdleMs;
    if (idle || now >= login.expiresAt.getTime()) {
      await this.logins.delete({ id: login.id });
      return null;
    }
    if (viaBearer && now >= login.bearerExpiresAt.getTime()) return null;
    if (touch) await this.logins.update({ id: login.id }, { lastSeenAt: new Date(now) });
    return {
      id: login.id,
      actor: { username: login.user.username, role: login.user.role, userId: login.userId },
    };
  }
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
