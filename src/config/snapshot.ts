// The one document every part of Tether speaks (see DESIGN.md, "One document: the config snapshot").
// Plain data only: it crosses process boundaries as JSON.

export type BalanceAlgorithm = 'source' | 'roundrobin' | 'leastconn' | 'first' | 'cmpp-account';
export type HashType = 'consistent' | 'map-based';

/** Algorithms whose choice is a function of the client (and so can be predicted and compared). */
export function isHashed(algorithm: BalanceAlgorithm): boolean {
  return algorithm === 'source' || algorithm === 'cmpp-account';
}

export type CheckType = 'tcp' | 'cmpp' | 'none';
export type SendProxy = 'none' | 'v1' | 'v2';
export type OnMarkedDown = 'keep' | 'shutdown-sessions';
export type FrontendInspect = 'none' | 'cmpp';

export interface Timeouts {
  connect: number;
  client: number;
  server: number;
  check: number;
}

export interface Defaults {
  maxconn: number;
  timeouts: Timeouts;
}

export interface Frontend {
  name: string;
  bind: { address: string; port: number };
  backend: string;
  maxconn?: number;
  allow?: string[];
  inspect?: FrontendInspect;
  enabled: boolean;
}

export interface CmppCheck {
  sourceAddr: string;
  secret: string;
  version: '2.0' | '3.0';
}

export interface BackendCheck {
  type: CheckType;
  inter: number;
  fall: number;
  rise: number;
  timeout?: number;
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
}

export interface Backend {
  name: string;
  balance: BalanceAlgorithm;
  hashType: HashType;
  check: BackendCheck;
  sendProxy: SendProxy;
  onMarkedDown: OnMarkedDown;
  servers: Server[];
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
