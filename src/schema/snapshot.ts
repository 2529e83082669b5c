// The one document every part of Tether speaks: runtime, control plane and console import it.
// Plain data only: it crosses process boundaries as JSON. Its rules are in ./fields.ts.
import type {
  BALANCE_ALGORITHMS,
  CHECK_TYPES,
  CMPP_VERSIONS,
  FRONTEND_INSPECT,
  HASH_TYPES,
  ON_MARKED_DOWN,
  SEND_PROXY,
  SYSLOG_FACILITIES,
} from './fields.js';

export type BalanceAlgorithm = (typeof BALANCE_ALGORITHMS)[number];
export type HashType = (typeof HASH_TYPES)[number];

/** Algorithms whose choice is a function of the client (and so can be predicted and compared). */
export function isHashed(algorithm: BalanceAlgorithm): boolean {
  return algorithm === 'source' || algorithm === 'cmpp-account';
}

export type CheckType = (typeof CHECK_TYPES)[number];
export type SendProxy = (typeof SEND_PROXY)[number];
export type OnMarkedDown = (typeof ON_MARKED_DOWN)[number];
export type FrontendInspect = (typeof FRONTEND_INSPECT)[number];
export type CmppVersion = (typeof CMPP_VERSIONS)[number];

export interface Timeouts {
  connect: number;
  client: number;
  server: number;
  check: number;
  /** HAProxy's `timeout tunnel`: once connected, the idle limit in place of client and server; absent: none. */
  tunnel?: number;
}

/** A frontend's own timeouts (HAProxy: `timeout client` is a frontend property); absent: `defaults.timeouts`. */
export interface FrontendTimeouts {
  client?: number;
}

/** A backend's own timeouts (HAProxy: `timeout connect|server|tunnel` are backend properties); absent: `defaults.timeouts`. */
export interface BackendTimeouts {
  connect?: number;
  server?: number;
  tunnel?: number;
}

/** A backend without `retries`: one retry, as Tether always did (and its export writes `retries 1`). */
export const DEFAULT_RETRIES = 1;
/** A backend without `redispatch`: the last retry may go to another server, as Tether always did. */
export const DEFAULT_REDISPATCH = true;

export type SyslogFacility = (typeof SYSLOG_FACILITIES)[number];

/** Where the session logs go over UDP syslog, as HAProxy's `global` `log <address>:<port> <facility>`. */
export interface LogTarget {
  address: string;
  port: number;
  facility: SyslogFacility;
}

/** HAProxy's syslog port when a `log` line names none. */
export const DEFAULT_SYSLOG_PORT = 514;
export const DEFAULT_SYSLOG_FACILITY: SyslogFacility = 'local0';

export interface Defaults {
  maxconn: number;
  timeouts: Timeouts;
  /** The session logs' syslog target; absent: none in the config (TETHER_SYSLOG applies, docs/session-logs.md). */
  log?: LogTarget;
}

export interface Bind {
  address: string;
  port: number;
}

export interface Frontend {
  name: string;
  /** The first of `binds`, kept for clients that know only one address (docs/config-model.md). */
  bind: Bind;
  /** Every address the frontend listens on, 1 to LIMITS.bindsPerFrontend. */
  binds: Bind[];
  backend: string;
  maxconn?: number;
  allow?: string[];
  inspect?: FrontendInspect;
  /** Its own timeouts in place of `defaults.timeouts` (docs/config-model.md). */
  timeouts?: FrontendTimeouts;
  enabled: boolean;
}

export interface CmppCheck {
  sourceAddr: string;
  secret: string;
  version: CmppVersion;
}

/**
 * One step of a `tcp-check` sequence (type tcp only), run in order after the connect: send text (UTF-8) or bytes
 * (hex), or read until the text or bytes appear (docs/health-checks.md). Exactly one key per step.
 */
export type CheckStep =
  { send: string } | { sendBinary: string } | { expect: { string: string } } | { expect: { binary: string } };

export interface BackendCheck {
  type: CheckType;
  inter: number;
  fall: number;
  rise: number;
  timeout?: number;
  /** HAProxy's fastinter: ms between checks while a server moves between UP and DOWN; absent: inter. */
  fastinter?: number;
  /** HAProxy's downinter: ms between checks while a server is DOWN; absent: inter. */
  downinter?: number;
  /** A tcp-check sequence (type tcp); absent: the check only opens a connection. */
  steps?: CheckStep[];
  cmpp?: CmppCheck;
}

export interface Server {
  name: string;
  address: string;
  port: number;
  weight: number;
  maxconn?: number;
  backup: boolean;
  check: boolean;
  /** The port health checks connect to (HAProxy's `port`); absent: `port`. */
  checkPort?: number;
}

/** At most `logins` logins per `per` ms: a token bucket of `logins` tokens refilled over `per`. */
export interface LoginRate {
  logins: number;
  per: number;
}

/** One account's own limits, in place of the backend's (docs/cmpp-session-control.md). */
export interface CmppAccountLimits {
  account: string;
  maxConnections?: number;
  /** This account's own per-account login rate. */
  loginRate?: LoginRate;
}

/** Per-account caps and login rate limits, enforced on `inspect: cmpp` frontends only. */
export interface BackendCmpp {
  maxConnectionsPerAccount?: number;
  loginRate?: { perAccount?: LoginRate; perSource?: LoginRate };
  accounts?: CmppAccountLimits[];
  /** Hard limit (ms) of a lossless close: past it the legs are closed anyway (default 5000). */
  closeTimeout?: number;
}

export interface Backend {
  name: string;
  balance: BalanceAlgorithm;
  hashType: HashType;
  check: BackendCheck;
  sendProxy: SendProxy;
  onMarkedDown: OnMarkedDown;
  /** Attempts after a failed connect, 0..100; absent: DEFAULT_RETRIES. */
  retries?: number;
  /** Whether a retry may go to another server; absent: DEFAULT_REDISPATCH. */
  redispatch?: boolean;
  /** Its own timeouts in place of `defaults.timeouts` (docs/config-model.md). */
  timeouts?: BackendTimeouts;
  /** Absent: no CMPP limits, the default close timeout. */
  cmpp?: BackendCmpp;
  servers: Server[];
}

/** Whether a backend's `cmpp` limits anything (caps or rates). */
export function hasCmppLimits(cmpp: BackendCmpp | undefined): boolean {
  return (
    cmpp !== undefined &&
    (cmpp.maxConnectionsPerAccount !== undefined ||
      cmpp.loginRate?.perAccount !== undefined ||
      cmpp.loginRate?.perSource !== undefined ||
      (cmpp.accounts !== undefined && cmpp.accounts.length > 0))
  );
}

export interface Snapshot {
  defaults: Defaults;
  frontends: Frontend[];
  backends: Backend[];
}

// Defaults follow the haproxy.cfg our users run today:
// maxconn 50000, timeout connect 5s, client/server 1h, check inter 5s fall 3 rise 2.
export const DEFAULT_DEFAULTS: Defaults = {
  maxconn: 50000,
  timeouts: { connect: 5000, client: 3_600_000, server: 3_600_000, check: 5000 },
};

export const DEFAULT_CHECK: BackendCheck = { type: 'tcp', inter: 5000, fall: 3, rise: 2 };

export function emptySnapshot(): Snapshot {
  return structuredClone({ defaults: DEFAULT_DEFAULTS, frontends: [], backends: [] });
}
