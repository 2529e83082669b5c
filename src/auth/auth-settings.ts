import type { Settings } from '../settings.js';

/** The access-control knobs, with the defaults the product ships. */
export interface AuthSettings {
  /** A console login unused this long is over (sliding). */
  sessionIdleMs: number;
  /** A console login ends this long after it started, however active. */
  sessionMaxMs: number;
  /** Lifetime of the bearer token a login returns. */
  loginTokenTtlMs: number;
  /** Login attempts allowed per source address per minute. */
  loginAttemptsPerMinute: number;
  /** Failed bearer-token authentications allowed per source address per minute. */
  badTokensPerMinute: number;
  /** Served over HTTPS: cookies get Secure, HSTS is sent. */
  tls: boolean;
}

export const AUTH_DEFAULTS = {
  sessionIdleMs: 30 * 60_000,
  sessionMaxMs: 12 * 60 * 60_000,
  loginTokenTtlMs: 15 * 60_000,
  loginAttemptsPerMinute: 10,
  badTokensPerMinute: 30,
} as const;

export function authSettingsOf(settings: Settings): AuthSettings {
  return {
    sessionIdleMs: settings.sessionIdleMs ?? AUTH_DEFAULTS.sessionIdleMs,
    sessionMaxMs: settings.sessionMaxMs ?? AUTH_DEFAULTS.sessionMaxMs,
    loginTokenTtlMs: settings.loginTokenTtlMs ?? AUTH_DEFAULTS.loginTokenTtlMs,
    loginAttemptsPerMinute: settings.loginAttemptsPerMinute ?? AUTH_DEFAULTS.loginAttemptsPerMinute,
    badTokensPerMinute: settings.badTokensPerMinute ?? AUTH_DEFAULTS.badTokensPerMinute,
    tls: Boolean(settings.tlsCert && settings.tlsKey),
  };
}
