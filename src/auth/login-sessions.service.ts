import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { LessThan, Repository } from 'typeorm';
import { SETTINGS, type Settings } from '../settings.js';
import type { UserEntity } from '../users/user.entity.js';
import { authSettingsOf, type AuthSettings } from './auth-settings.js';
import { LoginSessionEntity } from './login-session.entity.js';
import type { Actor, Role } from './roles.js';
import { hydrated, rawRow } from '../database/raw-rows.js';
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
    // One statement: the login with its user's name and role (findOne with the relation made two).
    const row = await rawRow<LoginRow>(
      this.logins,
      'cookieHash' in where ? LOGIN_BY_COOKIE : LOGIN_BY_BEARER,
      ['cookieHash' in where ? where.cookieHash : where.bearerHash],
    );
    if (!row) return null;
    const lastSeenAt = hydrated(this.logins, 'lastSeenAt', row.lastSeenAt).getTime();
    const now = Date.now();
    const idle = now - lastSeenAt > this.config.sessionIdleMs;
    if (idle || now >= hydrated(this.logins, 'expiresAt', row.expiresAt).getTime()) {
      await this.logins.delete({ id: row.id });
      return null;
    }
    if (viaBearer && now >= hydrated(this.logins, 'bearerExpiresAt', row.bearerExpiresAt).getTime())
      return null;
    // Activity is written at most once per touchEveryMs: a console polling every second, or a script making
    // changes, costs no write per request; the idle timeout counts from the last write, so it may end a login
    // up to that much (1 s, or a quarter of a shorter idle timeout) earlier.
    if (touch && now - lastSeenAt >= this.touchEveryMs)
      await this.logins.update({ id: row.id }, { lastSeenAt: new Date(now) });
    return {
      id: row.id,
      actor: { username: row.username, role: row.role, userId: row.userId },
    };
  }

  private get touchEveryMs(): number {
    return Math.min(LAST_SEEN_RESOLUTION_MS, this.config.sessionIdleMs / 4);
  }
}

/** `lastSeenAt` is written when it is at least this old (or a quarter of the idle timeout, if that is shorter). */
export const LAST_SEEN_RESOLUTION_MS = 1000;

interface LoginRow {
  id: number;
  userId: number;
  lastSeenAt: string;
  expiresAt: string;
  bearerExpiresAt: string;
  username: string;
  role: Role;
}

const LOGIN_WITH_USER =
  'SELECT l."id", l."userId", l."lastSeenAt", l."expiresAt", l."bearerExpiresAt", u."username", u."role" ' +
  'FROM "login_sessions" l INNER JOIN "users" u ON u."id" = l."userId" WHERE ';
const LOGIN_BY_COOKIE = `${LOGIN_WITH_USER}l."cookieHash" = ?`;
const LOGIN_BY_BEARER = `${LOGIN_WITH_USER}l."bearerHash" = ?`;

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
