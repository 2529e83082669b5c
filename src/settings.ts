// Settings come from the environment (README.md, "Settings"); createApp takes them as plain data so
// main.ts and the tests build the very same application.
import { dirname, join } from 'node:path';
import type { LogLevel } from '@nestjs/common';
import { SESSION_LOG_FORMATS, type SessionLogFormat } from './logging/session-log.js';
import { parseSyslogTarget, type SyslogTarget } from './logging/syslog.js';

export interface Settings {
  httpHost: string;
  httpPort: number;
  /** SQLite file; its directory is created when missing. */
  dbPath: string;
  /** Password of the first user `admin`; generated and printed once when absent. */
  adminPassword?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Access control (src/auth/auth-settings.ts holds the defaults): console login idle and absolute expiry,
   *  lifetime of the login bearer token, login attempts per source address per minute. */
  sessionIdleMs?: number;
  sessionMaxMs?: number;
  loginTokenTtlMs?: number;
  loginAttemptsPerMinute?: number;
  /** Failed bearer-token authentications allowed per source address per minute (then 429). */
  badTokensPerMinute?: number;
  /** Retention (src/retention/retention-settings.ts holds the defaults): audit entries and revisions older than
   *  this many days are pruned, but the newest `revisionsKept` revisions (and always the head) are kept. */
  auditRetentionDays?: number;
  revisionRetentionDays?: number;
  revisionsKept?: number;
  /** The event log (health, admin state, binds: docs/events.md) keeps this many days and at most `eventsKept` rows;
   *  chart samples are kept `sampleRetentionHours`. */
  eventRetentionDays?: number;
  eventsKept?: number;
  sampleRetentionHours?: number;
  /** false (TETHER_NODE_INTERNALS=off): listeners use only public Node APIs, never the self-tested private
   *  paths (docs/runtime-hot-path.md, "Node internals"). */
  nodeInternals: boolean;
  /** Most verbose Nest log level printed: error, warn, log, debug, verbose. */
  logLevel: LogLevel;
  /** Path of the HAProxy-compatible runtime socket (docs/runtime-socket.md); undefined: tether.sock beside the
   *  database file; false (TETHER_SOCKET=off): no socket. */
  socketPath?: string | false;
  /** Session log lines (docs/session-logs.md): pino JSON (default) or HAProxy's tcplog text line. */
  logFormat: SessionLogFormat;
  /** TETHER_SYSLOG: also send each session's tcplog line to this syslog server over UDP. */
  syslog?: SyslogTarget;
  /** TETHER_WORKERS (docs/workers.md): 0 = the data plane runs in this process; N = N worker processes;
   *  'auto' (unset) = the number of cores, raised to what defaults.maxconn needs under the open-file limit. */
  workers: number | 'auto';
}

/** Injection token for the app's Settings. */
export const SETTINGS = Symbol('tether:settings');

export const DEFAULT_SETTINGS: Settings = {
  httpHost: '127.0.0.1',
  httpPort: 8080,
  dbPath: 'data/tether.db',
  nodeInternals: true,
  logLevel: 'log',
  logFormat: 'json',
  workers: 0,
};

/** Each worker is a process of ~40 MB: more than this is a typo, not a plan. */
export const MAX_WORKERS = 64;

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export function settingsFromEnv(env: Record<string, string | undefined> = process.env): Settings {
  const port = env.TETHER_HTTP_PORT === undefined ? DEFAULT_SETTINGS.httpPort : Number(env.TETHER_HTTP_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`TETHER_HTTP_PORT must be a port number, got "${env.TETHER_HTTP_PORT}"`);
  }
  const socket = env.TETHER_SOCKET;
  // A Unix socket path longer than sun_path (108 bytes with its NUL) cannot be bound: refuse it at start.
  if (socket && socket !== 'off' && Buffer.byteLength(socket) > 107) {
    throw new Error(`TETHER_SOCKET must be a path of at most 107 bytes, got "${socket}"`);
  }
  const logLevel = (env.TETHER_LOG_LEVEL ?? DEFAULT_SETTINGS.logLevel) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`TETHER_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const internals = env.TETHER_NODE_INTERNALS || 'on';
  if (internals !== 'on' && internals !== 'off') {
    throw new Error(`TETHER_NODE_INTERNALS must be on or off, got "${internals}"`);
  }
  const logFormat = (env.TETHER_LOG_FORMAT || DEFAULT_SETTINGS.logFormat) as SessionLogFormat;
  if (!SESSION_LOG_FORMATS.includes(logFormat)) {
    throw new Error(`TETHER_LOG_FORMAT must be one of ${SESSION_LOG_FORMATS.join(', ')}, got "${logFormat}"`);
  }
  const workersText = env.TETHER_WORKERS ?? '';
  const workers = workersText === '' || workersText === 'auto' ? 'auto' : Number(workersText);
  if (workers !== 'auto' && (!Number.isInteger(workers) || workers < 0 || workers > MAX_WORKERS)) {
    throw new Error(
      `TETHER_WORKERS must be auto or a whole number from 0 to ${MAX_WORKERS}, got "${workersText}"`,
    );
  }
  return {
    httpHost: env.TETHER_HTTP_HOST || DEFAULT_SETTINGS.httpHost,
    httpPort: port,
    dbPath: env.TETHER_DB || DEFAULT_SETTINGS.dbPath,
    adminPassword: env.TETHER_ADMIN_PASSWORD || undefined,
    tlsCert: env.TETHER_TLS_CERT || undefined,
    tlsKey: env.TETHER_TLS_KEY || undefined,
    sessionIdleMs: secondsOf(env, 'TETHER_SESSION_IDLE_SECONDS'),
    sessionMaxMs: secondsOf(env, 'TETHER_SESSION_MAX_SECONDS'),
    loginTokenTtlMs: secondsOf(env, 'TETHER_LOGIN_TOKEN_SECONDS'),
    loginAttemptsPerMinute: positiveIntOf(env, 'TETHER_LOGIN_ATTEMPTS_PER_MINUTE'),
    badTokensPerMinute: positiveIntOf(env, 'TETHER_BAD_TOKENS_PER_MINUTE'),
    auditRetentionDays: positiveIntOf(env, 'TETHER_AUDIT_RETENTION_DAYS'),
    revisionRetentionDays: positiveIntOf(env, 'TETHER_REVISION_RETENTION_DAYS'),
    revisionsKept: positiveIntOf(env, 'TETHER_REVISIONS_KEPT'),
    eventRetentionDays: positiveIntOf(env, 'TETHER_EVENT_RETENTION_DAYS'),
    eventsKept: positiveIntOf(env, 'TETHER_EVENTS_KEPT'),
    sampleRetentionHours: positiveIntOf(env, 'TETHER_SAMPLE_RETENTION_HOURS'),
    nodeInternals: internals === 'on',
    logLevel,
    socketPath: socket === 'off' ? false : socket || undefined,
    logFormat,
    syslog: env.TETHER_SYSLOG ? parseSyslogTarget(env.TETHER_SYSLOG) : undefined,
    workers,
  };
}

/** Where the runtime socket listens, or false when it is turned off: by default tether.sock beside the database
 *  file (none for an in-memory database). */
export function socketPathOf(settings: Pick<Settings, 'socketPath' | 'dbPath'>): string | false {
  if (settings.socketPath !== undefined) return settings.socketPath;
  // An in-memory database has no directory to put the socket beside.
  if (settings.dbPath === ':memory:') return false;
  return join(dirname(settings.dbPath), 'tether.sock');
}

function positiveIntOf(env: Record<string, string | undefined>, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive whole number, got "${text}"`);
  }
  return value;
}

function secondsOf(env: Record<string, string | undefined>, name: string): number | undefined {
  const seconds = positiveIntOf(env, name);
  return seconds === undefined ? undefined : seconds * 1000;
}

/** The levels Nest's logger should print for a most-verbose level. */
export function logLevelsUpTo(level: LogLevel): LogLevel[] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}
