// The runtime's whole public surface: plain, JSON-serialisable data in and out, every call async,
// so the same interface can later be served by worker processes over IPC without touching callers.
import type { Snapshot } from '../schema/snapshot.js';

export type AdminState = 'ready' | 'drain' | 'maint';
export type Health = 'UP' | 'DOWN';

/** HAProxy check_status codes we produce. */
export type CheckStatus =
  'INI' | 'L4OK' | 'L4TOUT' | 'L4CON' | 'L7OK' | 'L7RSP' | 'L7TOUT' | 'L7STS' | 'SOCKERR';

export interface ApplyOptions {
  /** Boot mode: a frontend that cannot bind is reported in the result while the others serve. */
  tolerateBindErrors?: boolean;
}

export interface FrontendFailure {
  frontend: string;
  code: string; // errno code such as EADDRINUSE, EACCES, EADDRNOTAVAIL
  message: string;
}

export interface ApplyResult {
  /** Non-empty only with tolerateBindErrors. */
  failedFrontends: FrontendFailure[];
}

export interface ServerStateResult {
  backend: string;
  server: string;
  previous: AdminState;
  state: AdminState;
  sessionsClosed: number;
}

export interface FrontendStats {
  name: string;
  backend: string;
  /** OPEN: listening; STOP: disabled; FAILED: could not bind (see error). */
  status: 'OPEN' | 'STOP' | 'FAILED';
  error?: FrontendFailure;
  bind: { address: string; port: number };
  scur: number;
  smax: number;
  slim: number;
  stot: number;
  bin: number;
  bout: number;
  /** Connections refused by the allow-list (HAProxy: dcon). */
  denied: number;
  /** Connections closed because no server was usable. */
  noServer: number;
  rate: number;
  rate_max: number;
}

export interface ServerStats {
  backend: string;
  name: string;
  address: string;
  port: number;
  /** HAProxy-style combined status: UP, DOWN, MAINT, DRAIN, 'UP 1/3' (going down), 'DOWN 1/2' (going up), 'no check'. */
  status: string;
  health: Health;
  adminState: AdminState;
  checked: boolean;
  weight: number;
  backup: boolean;
  scur: number;
  smax: number;
  slim: number; // 0 = no limit
  stot: number;
  bin: number;
  bout: number;
  econ: number;
  /** Connection retries (HAProxy: wretr) and redispatches to another server (wredis). */
  wretr: number;
  wredis: number;
  lbtot: number;
  chkfail: number;
  chkdown: number;
  /** Seconds since the last UP/DOWN change. */
  lastchg: number;
  lastChangeAt: number; // epoch ms
  /** Total seconds spent DOWN. */
  downtime: number;
  rate: number;
  rate_max: number;
  check_status: CheckStatus | '';
  check_duration: number; // ms, -1 when unknown
  check_desc: string;
  lastCheckAt: number; // epoch ms, 0 when never
  /** Age in ms of this server's oldest live session (0 when none): drain progress. */
  oldestSessionAge: number;
}

export interface BackendStats {
  name: string;
  balance: string;
  status: 'UP' | 'DOWN';
  scur: number;
  smax: number;
  stot: number;
  bin: number;
  bout: number;
  econ: number;
  wretr: number;
  wredis: number;
  lbtot: number;
  chkdown: number;
  lastchg: number;
  downtime: number;
  rate: number;
  rate_max: number;
  /** Usable active / backup servers right now. */
  act: number;
  bck: number;
  servers: ServerStats[];
}

export interface RuntimeStats {
  at: number; // epoch ms
  uptime: number; // s
  frontends: FrontendStats[];
  backends: BackendStats[];
}

/** One second of totals, for charts. */
export interface StatsSample {
  t: number; // epoch ms
  frontends: Record<string, { scur: number; stot: number; bin: number; bout: number }>;
  /** Keyed "backend/server". */
  servers: Record<string, { scur: number; stot: number; bin: number; bout: number }>;
}

export interface SessionInfo {
  id: string;
  frontend: string;
  backend: string;
  server: string | null; // null while connecting
  clientAddress: string;
  clientPort: number;
  startedAt: number; // epoch ms
  lastActiveAt: number; // epoch ms
  bytesIn: number; // client -> server
  bytesOut: number; // server -> client
  state: 'connecting' | 'established' | 'closing';
}

export interface ImpactReport {
  listenersOpened: Array<{ frontend: string; address: string; port: number }>;
  listenersClosed: Array<{ frontend: string; address: string; port: number; sessions: number }>;
  serversRemoved: Array<{ backend: string; server: string; sessions: number }>;
  /** For hashed backends: share (0..1) of current distinct client keys whose next connection goes elsewhere. */
  rehashed: Array<{ backend: string; clients: number; moved: number; share: number }>;
}

export type RuntimeEvent =
  | {
      type: 'health';
      backend: string;
      server: string;
      from: Health;
      to: Health;
      checkStatus: CheckStatus | '';
      at: number;
    }
  | { type: 'admin-state'; backend: string; server: string; from: AdminState; to: AdminState; at: number }
  | { type: 'frontend-error'; frontend: string; code: string; message: string; at: number }
  | { type: 'sessions-closed'; backend: string; server: string; count: number; reason: string; at: number };

export interface ProxyRuntimeApi {
  apply(snapshot: Snapshot, options?: ApplyOptions): Promise<ApplyResult>;
  setServerState(
    backend: string,
    server: string,
    state: AdminState,
    options?: { shutdownSessions?: boolean },
  ): Promise<ServerStateResult>;
  /** Closes the sessions of one server, or of every server of the backend. Returns how many. */
  shutdownSessions(backend: string, server?: string): Promise<number>;
  killSession(id: string): Promise<boolean>;
  stats(): Promise<RuntimeStats>;
  history(): Promise<StatsSample[]>;
  sessions(): Promise<SessionInfo[]>;
  /** What applying `candidate` would do to live traffic, without applying it. */
  impact(candidate: Snapshot): Promise<ImpactReport>;
  onEvent(listener: (event: RuntimeEvent) => void): () => void;
  /** Stops listeners and checks; closes live sessions; resolves with how many were closed. */
  close(): Promise<number>;
}
