// What one haproxy.cfg section says, as read so far: a `defaults` section or a proxy (frontend,
// backend, listen). A proxy starts as a copy of the `defaults` before it (HAProxy's inheritance).
import type { BalanceAlgorithm, CheckStep, HashType, OnMarkedDown, SendProxy } from '../schema/snapshot.js';
import type { Statement } from './lines.js';

export type ProxyKind = 'defaults' | 'frontend' | 'backend' | 'listen';

/** A value and the statement that set it (warnings about the value name its line). */
export interface Sourced<T> {
  value: T;
  at: Statement;
}

/** The parameters of a `server` or `default-server` line that Tether keeps. */
export interface ServerParams {
  check?: boolean;
  inter?: number;
  fall?: number;
  rise?: number;
  weight?: number;
  maxconn?: number;
  backup?: boolean;
  sendProxy?: SendProxy;
  onMarkedDown?: OnMarkedDown;
  /** `disabled` (`enabled` undoes a default-server's): the server starts in maint, an admin state (not config). */
  disabled?: boolean;
  fastinter?: number;
  downinter?: number;
  /** HAProxy's `port`: where the server's checks connect. */
  checkPort?: number;
}

/** A backend's `tcp-check` rules as read (health-check.ts turns them into check.steps). */
export interface TcpCheckRules {
  steps: CheckStep[];
  /** `tcp-check connect port N`: the port every server's checks connect to. */
  connectPort?: number;
  /** Why the sequence cannot be run as written (the check then only connects), with the rule that said so. */
  unusable?: Sourced<string>;
  /** Every rule read, for warnings about the sequence as a whole (each line gets its own). */
  lines: Statement[];
  /** Whether a rule came before; a second `tcp-check connect` is a sequence of several connections. */
  connects: number;
}

/** Which check `option …` asked for: HAProxy keeps the last one. */
export type CheckOption = 'tcp-check' | 'redis-check' | 'other';

export interface ServerDraft {
  name: string;
  address: string;
  port: number;
  params: ServerParams;
  at: Statement;
}

export interface BindDraft {
  address: string;
  port: number;
  at: Statement;
}

export type TimeoutName = 'connect' | 'client' | 'server' | 'check' | 'tunnel';

export interface ProxyState {
  kind: ProxyKind;
  name: string;
  at: Statement;
  mode?: Sourced<string>;
  binds: BindDraft[];
  backend?: Sourced<string>;
  maxconn?: Sourced<number>;
  timeouts: Partial<Record<TimeoutName, Sourced<number>>>;
  /** `retries N` (own or from its `defaults`). */
  retries?: Sourced<number>;
  /** `option redispatch` (true) or `no option redispatch` (false). */
  redispatch?: Sourced<boolean>;
  balance?: Sourced<BalanceAlgorithm>;
  hashType?: Sourced<HashType>;
  defaultServer: ServerParams;
  servers: ServerDraft[];
  /** `acl NAME src …` lines by ACL name. */
  acls: Map<string, string[]>;
  allow?: Sourced<string[]>;
  disabled: boolean;
  checkOption?: Sourced<CheckOption>;
  tcpCheck: TcpCheckRules;
  /** `log global`: the proxy's sessions go to the global log target (HAProxy logs nothing for a proxy without it). */
  logGlobal: boolean;
}

export function newProxy(kind: ProxyKind, name: string, at: Statement, defaults?: ProxyState): ProxyState {
  return {
    kind,
    name,
    at,
    mode: defaults?.mode,
    binds: [],
    maxconn: defaults?.maxconn,
    timeouts: { ...defaults?.timeouts },
    retries: defaults?.retries,
    redispatch: defaults?.redispatch,
    balance: defaults?.balance,
    hashType: defaults?.hashType,
    defaultServer: { ...defaults?.defaultServer },
    servers: [],
    acls: new Map(),
    // A check option is inherited from defaults; tcp-check rules are not (HAProxy 2.6 takes them per proxy).
    checkOption: defaults?.checkOption,
    tcpCheck: { steps: [], connects: 0, lines: [] },
    disabled: false,
    logGlobal: defaults?.logGlobal ?? false,
  };
}

export const isFrontendSide = (p: ProxyState) => p.kind === 'frontend' || p.kind === 'listen';
export const isBackendSide = (p: ProxyState) =>
  p.kind === 'backend' || p.kind === 'listen' || p.kind === 'defaults';
