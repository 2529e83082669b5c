// The one table of the config's fields: ranges, enums, formats and limits. The DTOs
// (common/validators.ts builds their decorators from it), the control plane's whole-document check
// and the runtime's own check (both schema/check.ts) all read these rules, so they cannot disagree.
// Plain data: the console imports the snapshot types next to it. See docs/config-limits.md.

/** setTimeout's largest delay. */
export const MAX_TIMER_MS = 2_147_483_647;
const ONE_DAY_MS = 86_400_000;

export interface IntRule {
  kind: 'int';
  min: number;
  max: number;
}
/** Milliseconds, written as a number or as HAProxy writes durations (schema/durations.ts). */
export interface DurationRule {
  kind: 'duration';
  min: number;
  max: number;
}
export interface EnumRule<T extends string = string> {
  kind: 'enum';
  values: readonly T[];
  /** Values the schema knows but Tether does not build yet: refused with 422 NOT_IMPLEMENTED. */
  notBuilt: readonly T[];
}
/** A string whose UTF-8 encoding is min..max bytes (CMPP's Octet String fields). */
export interface BytesRule {
  kind: 'bytes';
  min: number;
  max: number;
}
/** A string of min..max characters. */
export interface TextRule {
  kind: 'text';
  min: number;
  max: number;
}
/** Hexadecimal digits (two per byte) of min..max bytes: a `tcp-check send-binary`/`expect binary` payload. */
export interface HexRule {
  kind: 'hex';
  min: number;
  max: number;
}
export interface FormatRule {
  /** `ip`: an IP literal a datagram can be sent to (not 0.0.0.0 or ::). */
  kind: 'name' | 'bind-address' | 'host' | 'cidr' | 'boolean' | 'ip';
}
export type FieldRule = IntRule | DurationRule | EnumRule | BytesRule | TextRule | HexRule | FormatRule;

const int = (min: number, max: number): IntRule => ({ kind: 'int', min, max });
const duration = (min: number, max: number): DurationRule => ({ kind: 'duration', min, max });
function oneOf<T extends string>(values: readonly T[], notBuilt: readonly T[] = []): EnumRule<T> {
  return { kind: 'enum', values, notBuilt };
}

/**
 * What of CMPP is built: the login health check (`check.type: cmpp`, runtime/health/cmpp-probe.ts)
 * and frontend inspection (`inspect: cmpp`, runtime/cmpp-inspect.ts). A value whose switch is off is refused
 * (422 NOT_IMPLEMENTED); flipping it is all it takes to accept the value.
 */
export const CMPP_CHECK_BUILT = true;
export const CMPP_INSPECT_BUILT = true;
const cmppUnless = (built: boolean) => (built ? [] : (['cmpp'] as const));

export const BALANCE_ALGORITHMS = ['source', 'roundrobin', 'leastconn', 'first', 'cmpp-account'] as const;
export const HASH_TYPES = ['consistent', 'map-based'] as const;
export const CHECK_TYPES = ['tcp', 'cmpp', 'none'] as const;
export const SEND_PROXY = ['none', 'v1', 'v2'] as const;
/** `terminate`: as shutdown-sessions, with the lossless close on inspected frontends (docs/cmpp-session-control.md). */
export const ON_MARKED_DOWN = ['keep', 'shutdown-sessions', 'terminate'] as const;
export const FRONTEND_INSPECT = ['none', 'cmpp'] as const;
export const CMPP_VERSIONS = ['2.0', '3.0'] as const;
/** Where a drain operation leaves its server when the last session is gone (docs/cmpp-session-control.md, "Drains"). */
export const DRAIN_THEN = ['maint', 'drain'] as const;
export type DrainThen = (typeof DRAIN_THEN)[number];
/** Syslog facilities as HAProxy's `log` lines name them, in RFC 3164 code order (kern = 0 … local7 = 23). */
export const SYSLOG_FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'auth2',
  'ftp',
  'ntp',
  'audit',
  'alert',
  'cron2',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

/** Frontend, backend and server names: 1 to 64 of letters, digits, `_`, `.`, `-`; not `.` or `..` (URL path segments). */
export const NAME_PATTERN = /^(?!\.\.?$)[A-Za-z0-9_.-]{1,64}$/;
/** What the runtime itself can serve (a config stored before `.`/`..` were refused must still boot). */
export const NAME_SYNTAX = /^[A-Za-z0-9_.-]{1,64}$/;
export const NAME_RULE_TEXT =
  'must be 1 to 64 characters of letters, digits, "_", "." or "-", and not "." or ".."';

const NAME: FormatRule = { kind: 'name' };
const PORT = int(1, 65535);
const MAXCONN = int(1, 1_000_000);
const BOOLEAN: FormatRule = { kind: 'boolean' };

export const RULES = {
  defaults: {
    maxconn: MAXCONN,
    timeout: duration(1, MAX_TIMER_MS),
  },
  /** `defaults.log`: the syslog target of the session logs (docs/session-logs.md). An IP, never a host name:
   *  a name would mean a DNS lookup per datagram. */
  log: {
    address: { kind: 'ip' } as FormatRule,
    port: PORT,
    facility: oneOf(SYSLOG_FACILITIES),
  },
  frontend: {
    name: NAME,
    bindAddress: { kind: 'bind-address' } as FormatRule,
    bindPort: PORT,
    backend: NAME,
    maxconn: MAXCONN,
    allowEntry: { kind: 'cidr' } as FormatRule,
    inspect: oneOf(FRONTEND_INSPECT, cmppUnless(CMPP_INSPECT_BUILT)),
    enabled: BOOLEAN,
  },
  backend: {
    name: NAME,
    balance: oneOf(BALANCE_ALGORITHMS),
    hashType: oneOf(HASH_TYPES),
    sendProxy: oneOf(SEND_PROXY),
    onMarkedDown: oneOf(ON_MARKED_DOWN),
  },
  check: {
    type: oneOf(CHECK_TYPES, cmppUnless(CMPP_CHECK_BUILT)),
    inter: duration(10, ONE_DAY_MS),
    fall: int(1, 1000),
    rise: int(1, 1000),
    timeout: duration(1, ONE_DAY_MS),
    /** HAProxy's `fastinter`: the interval while a server moves between UP and DOWN (absent: inter). */
    fastinter: duration(10, ONE_DAY_MS),
    /** HAProxy's `downinter`: the interval while a server is DOWN (absent: inter). */
    downinter: duration(10, ONE_DAY_MS),
  },
  /**
   * `backend.check.steps`: HAProxy's simple `tcp-check` sequence (docs/health-checks.md). A payload is at most
   * CHECK_PAYLOAD_BYTES; a check reads at most CHECK_READ_BYTES while expecting.
   */
  checkStep: {
    send: { kind: 'bytes', min: 1, max: 1024 } as BytesRule,
    sendBinary: { kind: 'hex', min: 1, max: 1024 } as HexRule,
    expectString: { kind: 'bytes', min: 1, max: 1024 } as BytesRule,
    expectBinary: { kind: 'hex', min: 1, max: 1024 } as HexRule,
  },
  cmpp: {
    /** CMPP Source_Addr is an Octet String of 6 bytes. */
    sourceAddr: { kind: 'bytes', min: 1, max: 6 } as BytesRule,
    secret: { kind: 'text', min: 1, max: 64 } as TextRule,
    version: oneOf(CMPP_VERSIONS),
  },
  /**
   * `backend.cmpp`: per-account connection caps and login rate limits, enforced by inspecting frontends
   * (docs/cmpp-session-control.md). A rate is `logins` per `per` ms (a token bucket of `logins` tokens).
   */
  cmppLimits: {
    maxConnectionsPerAccount: int(1, 100_000),
    /** The account of an override: a CONNECT's Source_Addr, 6 bytes. */
    account: { kind: 'bytes', min: 1, max: 6 } as BytesRule,
    /** An override's cap; 0 refuses every login of that account. */
    maxConnections: int(0, 100_000),
    logins: int(1, 100_000),
    per: duration(100, 3_600_000),
  },
  /** `backend.cmpp`: how inspected sessions end (docs/cmpp-session-control.md). */
  cmppClose: {
    /** Hard limit of a lossless close: 0.1 s to 5 min (the spec resends after 60 s). */
    closeTimeout: duration(100, 300_000),
  },
  /** `PUT …/servers/:s/state {"state":"drain","deadline","then"}` (docs/cmpp-session-control.md, "Drains"). */
  drain: {
    /** At most a week: an operation, not a state; well under setTimeout's largest delay. */
    deadline: duration(1, 7 * ONE_DAY_MS),
    then: oneOf(DRAIN_THEN),
  },
  /**
   * A backend's connect retries (HAProxy's `retries`, `option redispatch`) and the per-section timeouts
   * (`frontend.timeouts`, `backend.timeouts`): docs/config-model.md, "Retries and per-section timeouts".
   */
  retry: {
    /** Attempts after a failed connect; absent: 1 (Tether's behaviour before the setting). */
    retries: int(0, 100),
    redispatch: BOOLEAN,
  },
  /** A frontend's or backend's own timeout in place of `defaults.timeouts`'s (the same range). */
  sectionTimeout: duration(1, MAX_TIMER_MS),
  server: {
    name: NAME,
    address: { kind: 'host' } as FormatRule,
    port: PORT,
    weight: int(0, 256),
    maxconn: MAXCONN,
    backup: BOOLEAN,
    check: BOOLEAN,
    /** HAProxy's `port` on a server line: the port health checks connect to (absent: the server's port). */
    checkPort: PORT,
  },
} as const;

/**
 * How much one config may hold (docs/config-limits.md). Checked on the raw request body before any
 * other work, and again on every whole snapshot.
 */
export const LIMITS = {
  frontends: 5_000,
  backends: 5_000,
  /** Servers of all backends together. */
  servers: 20_000,
  /** Addresses one frontend listens on (`binds`). */
  bindsPerFrontend: 64,
  /** Binds of all frontends together: listening sockets of one runtime. */
  binds: 20_000,
  /** Entries of one frontend's `allow` list. */
  allowEntries: 1_000,
  /** Per-account overrides of one backend's CMPP limits (`backend.cmpp.accounts`). */
  cmppAccountOverrides: 1_000,
  /** Steps of one backend's tcp-check sequence (`check.steps`). */
  checkSteps: 16,
  /** Bytes one check reads while expecting, in all: a server streaming data can't grow the check's buffer. */
  checkReadBytes: 16_384,
  /** A check stops after this many issues: a broken document is not worth a full report. */
  issues: 20,
} as const;
