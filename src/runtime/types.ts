// The runtime's whole public surface: plain, JSON-serialisable data in and out, every call async,
// so the same interface can later be served by worker processes over IPC without touching callers.
import type { Snapshot } from '../schema/snapshot.js';

export type AdminState = 'ready' | 'drain' | 'maint';
export type Health = 'UP' | 'DOWN';

/** HAProxy check_status codes we produce. */
export type CheckStatus =
  'INI' | 'L4OK' | 'L4TOUT' | 'L4CON' | 'L7OK' | 'L7RSP' | 'L7TOUT' | 'L7STS' | 'SOCKERR';

/** The operator's admin state of one server, by name (kept by the control plane, outside snapshots). */
export interface AdminStateEntry {
  backend: string;
  server: string;
  state: AdminState;
}

export interface ApplyOptions {
  /** Boot mode: a frontend that cannot bind is reported in the result while the others serve. */
  tolerateBindErrors?: boolean;
  /**
   * Boot mode: a server host name that doesn't resolve doesn't refuse the apply; its servers start
   * DOWN ("DNS: ...") and come UP when a later re-resolution answers.
   */
  tolerateUnresolvedNames?: boolean;
  /**
   * Admin states, set in the same synchronous swap as the snapshot, so no listener serves a moment
   * without them. When given, it is the whole truth: a server of the snapshot not listed is `ready`;
   * entries for servers not in the snapshot are ignored. When absent, servers keep their state and
   * new ones start `ready`.
   */
  adminStates?: AdminStateEntry[];
}

export interface FrontendFailure {
  frontend: string;
  code: string; // errno code such as EADDRINUSE, EACCES, EADDRNOTAVAIL
  message: string;
  /** The address that could not be bound (one of the frontend's binds). */
  bind?: { address: string; port: number };
}

export interface ApplyResult {
  /**
   * Frontends left FAILED: with tolerateBindErrors any; without it only those that were FAILED
   * before and keep their bind (a change that doesn't touch them doesn't fail because of them).
   */
  failedFrontends: FrontendFailure[];
}

/** What made a FAILED frontend listen: its backoff timer, an apply, or an operator's retry. */
export type FrontendOpenTrigger = 'backoff' | 'apply' | 'retry';

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
  /** While FAILED: bind attempts made since it failed and when the next one runs (epoch ms). */
  retry?: { attempts: number; nextAt: number };
  /** The first of `binds`. */
  bind: { address: string; port: number };
  /** Every address the frontend listens on (OPEN: all of them listen). */
  binds: Array<{ address: string; port: number }>;
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
  /** CMPP inspection counters: frontends with `inspect: cmpp` (docs/cmpp-inspection.md). */
  cmpp?: CmppStats;
}

/** Frames of one direction, per command. */
export interface CmppCommandCounts {
  connect: number;
  connectResp: number;
  submit: number;
  submitResp: number;
  deliver: number;
  deliverResp: number;
  activeTest: number;
  activeTestResp: number;
  terminate: number;
  terminateResp: number;
  other: number;
}

/**
 * What CMPP inspection counted for one frontend, server or SP account (docs/cmpp-inspection.md). Every number
 * sums across processes; p50/p99 are recomputed from the summed `latency.counts`.
 */
export interface CmppStats {
  /** Inspected sessions started (for an account: CONNECTs naming it). */
  sessions: number;
  /** Sessions whose bytes were not CMPP: no longer inspected, relayed untouched. */
  notCmpp: number;
  /** Frames client -> server (`up`) and server -> client (`down`). */
  up: CmppCommandCounts;
  down: CmppCommandCounts;
  /** SUBMIT_RESP results: 0, 8 (flow control), any other. */
  submitResults: { ok: number; throttled: number; other: number };
  /** CONNECT_RESP statuses by code ("0".."9", "other"); only codes seen. */
  connectStatus: Record<string, number>;
  /** SUBMIT -> SUBMIT_RESP latency: counts per bucket (`boundsMs` upper bounds, one more open-ended bucket). */
  latency: { boundsMs: number[]; counts: number[]; sumMs: number; p50: number; p99: number };
  /** Requests of live sessions awaiting an answer: the client's (`up`) and the server's (`down`). */
  outstanding: { up: number; down: number };
  /** Requests not tracked because a session had 48 distinct ids outstanding in one direction. */
  untracked: number;
  /** CONNECTs Tether refused itself (status 5, never reaching a server): the account at its cap (backend.cmpp). */
  refusedCap: number;
  /** CONNECTs Tether refused itself, after a delay: over a login rate (backend.cmpp.loginRate). */
  refusedRate: number;
  /** Messages (SUBMIT, DELIVER, ...) in flight, unanswered, when their session ended (docs/cmpp-session-control.md). */
  ambiguous: number;
}

export interface CmppAccountStats extends CmppStats {
  /**
   * The SP account (Source_Addr); `*other*` counts the accounts past 10,000 once every row is of an account a
   * gateway let in (a full table gives up the others' rows first; docs/cmpp-inspection.md).
   */
  account: string;
  /** Version of the account's last CONNECT ('3.0', '2.0', ...). */
  version: string;
  /** When that CONNECT was seen (epoch ms; 0: none): with worker processes, the latest row's version wins. */
  lastConnectAt: number;
}

/** A server's states without its counters: what a view of the config shows with each server. */
export interface ServerState {
  backend: string;
  server: string;
  adminState: AdminState;
  health: Health;
  /** As ServerStats.status. */
  status: string;
}

export interface ServerStats {
  backend: string;
  name: string;
  /** As configured: an IP address or a host name. */
  address: string;
  /** For a host name: the address it resolved to (last good), '' before it ever resolved. */
  resolved?: string;
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
  /** The last check's layer-7 code when its protocol has one (CMPP login: the CONNECT_RESP status), as HAProxy's. */
  check_code?: number;
  lastCheckAt: number; // epoch ms, 0 when never
  /** Age in ms of this server's oldest live session (0 when none): drain progress. */
  oldestSessionAge: number;
  /** CMPP inspection counters of the inspected sessions it carried. */
  cmpp?: CmppStats;
  /**
   * While the server is in `drain`: the drain's progress. Added by the control plane (src/backends/drains.service.ts)
   * from its drain operations, never by the runtime.
   */
  drain?: DrainProgress;
}

/** A drain's progress (docs/cmpp-session-control.md, "Drains"). Plain data. */
export interface DrainProgress {
  /** When the drain started (epoch ms). */
  startedAt: number;
  /** When the sessions left are closed (epoch ms); null: no deadline. */
  deadlineAt: number | null;
  /** The state the server moves to by itself when no session is left; null: a plain drain, it stays drain. */
  then: 'maint' | 'drain' | null;
  sessionsLeft: number;
  /** Age of the oldest session left, ms (0 when none). */
  oldestSessionAgeMs: number;
  /** ms until the deadline (0 once passed); null: no deadline. */
  timeLeftMs: number | null;
  /** When the deadline closed the sessions left (epoch ms), and how many it started closing; null before. */
  closedAt: number | null;
  closed: number;
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
  /** CMPP inspection per SP account, sorted by account, `*other*` last; absent when nothing was inspected. */
  cmppAccounts?: CmppAccountStats[];
  /** Accepts that failed for want of descriptors (EMFILE/ENFILE) and the accept pauses they caused (docs/workers.md). */
  acceptErrors?: AcceptErrorStats;
  /** With worker processes (TETHER_WORKERS > 0): one entry per worker slot (docs/workers.md). */
  workers?: WorkerStats[];
}

export interface AcceptErrorStats {
  /** Accepts that failed with EMFILE or ENFILE (the pending client was closed by libuv). */
  errors: number;
  /** Times a listener stopped accepting for a moment because of them. */
  pauses: number;
  /** The last errno code ('' when none) and when it happened (epoch ms, 0 when never). */
  lastCode: string;
  lastAt: number;
}

/** One worker process slot (docs/workers.md). */
export interface WorkerStats {
  /** Slot number, 1..N: stable across restarts of the slot's process. */
  id: number;
  pid: number;
  /** Live sessions at its last report. */
  sessions: number;
  rssBytes: number;
  /** Times this slot's process was replaced after it died. */
  restarts: number;
  /** Sessions that died with this slot's processes. */
  lostSessions: number;
  state: 'starting' | 'running' | 'stopped';
  acceptErrors: number;
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
  /** How the client socket is read: into the runtime's buffer (`onread`) or through 'data' events. */
  readPath: 'onread' | 'stream';
  /** CMPP: the SP account of the client's CONNECT (inspected or cmpp-account sessions). */
  account?: string;
  /** CMPP inspection: the version the client's CONNECT asked for. */
  cmppVersion?: string;
  /** CMPP inspection: the client's (`up`) and the server's (`down`) requests awaiting an answer. */
  outstanding?: { up: number; down: number };
}

export interface ImpactReport {
  listenersOpened: Array<{ frontend: string; address: string; port: number }>;
  listenersClosed: Array<{ frontend: string; address: string; port: number; sessions: number }>;
  serversRemoved: Array<{ backend: string; server: string; sessions: number }>;
  /** For hashed backends: share (0..1) of current distinct clients whose next connection goes elsewhere (a client
   *  is its SP account when its session read one, else its address). */
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
  | {
      type: 'frontend-open';
      frontend: string;
      address: string;
      port: number;
      /** Bind attempts it took since the frontend failed. */
      attempts: number;
      trigger: FrontendOpenTrigger;
      at: number;
    }
  | { type: 'sessions-closed'; backend: string; server: string; count: number; reason: string; at: number }
  | {
      /** A worker process died; its sessions are lost and the slot is being replaced (docs/workers.md). */
      type: 'worker-exit';
      worker: number;
      pid: number;
      code: number | null;
      signal: string | null;
      lostSessions: number;
      at: number;
    };

/**
 * One ended session, with the fields of HAProxy's `option tcplog` line (docs/session-logs.md). Built once at close
 * from what the session kept; plain JSON-serialisable data.
 */
export interface SessionEndRecord {
  id: string;
  clientAddress: string;
  clientPort: number;
  /** Accept date, ms since the epoch (HAProxy's %t). */
  acceptedAt: number;
  frontend: string;
  backend: string;
  /** The last server tried; null when none was (HAProxy's `<NOSRV>`). */
  server: string | null;
  /** Queue wait (Tw): Tether has no queue, so 0; -1 when the session ended before reaching a server. */
  tw: number;
  /** Accept to server connection established (Tc, retries included); -1 when it never connected. */
  tc: number;
  /** Accept to close (Tt). */
  tt: number;
  /** Server → client bytes (HAProxy's %B, bytes_read). */
  bytesRead: number;
  /** Client → server bytes (HAProxy's %U). */
  bytesUploaded: number;
  /** HAProxy's two-letter session state at disconnection (%ts): `--`, `CD`, `SD`, `SC`, `sC`, `cD`, `sD`, `KD`… */
  termination: string;
  /** Tether's own close reason ('' for a normal close): 'idle timeout', 'killed', 'connect failed: ECONNREFUSED'… */
  reason: string;
  /** Sessions open when it ended, as HAProxy counts them: process (%ac) and frontend (%fc) with itself, backend
   *  (%bc) and server (%sc) without. */
  actconn: number;
  feconn: number;
  beconn: number;
  srvConn: number;
  /** Connect retries (%rc); `redispatched` when the retry went to another server (HAProxy prints `+`). */
  retries: number;
  redispatched: boolean;
  /** Server and backend queue lengths (%sq/%bq): always 0, Tether doesn't queue. */
  srvQueue: number;
  backendQueue: number;
}

/** What a stats() caller needs: plain data, so it crosses to worker processes as it is. */
export interface StatsOptions {
  /** The per-account CMPP table; default true. Callers that don't show it ask for none: it is the costly part. */
  cmppAccounts?: boolean;
}

/**
 * How shutdownSessions closes: plain data, so it crosses to worker processes as it is. `graceful`: the lossless close
 * on inspected sessions (default false).
 */
export interface ShutdownOptions {
  graceful?: boolean;
}

export interface ProxyRuntimeApi {
  apply(snapshot: Snapshot, options?: ApplyOptions): Promise<ApplyResult>;
  setServerState(
    backend: string,
    server: string,
    state: AdminState,
    options?: { shutdownSessions?: boolean },
  ): Promise<ServerStateResult>;
  /**
   * Tries the bind of a FAILED frontend now. Resolves with its stats when it listens; rejects with
   * RuntimeError BIND_FAILED (cause_code: the errno) when it still can't, NOT_FAILED when it isn't
   * FAILED, UNKNOWN_FRONTEND when there is no such frontend.
   */
  retryFrontend(frontend: string): Promise<FrontendStats>;
  /**
   * Closes the sessions of one server, or of every server of the backend. Returns how many it started closing.
   * `graceful: true` ends inspected (inspect: cmpp) sessions without losing or duplicating a message
   * (docs/cmpp-session-control.md, "Lossless close"); other sessions are cut as without it.
   */
  shutdownSessions(backend: string, server?: string, options?: ShutdownOptions): Promise<number>;
  killSession(id: string): Promise<boolean>;
  /** `cmppAccounts: false` leaves out the per-account CMPP table (up to 10,001 rows, costly to build and send). */
  stats(options?: StatsOptions): Promise<RuntimeStats>;
  /**
   * Every server's admin state, health and status, as stats() shows them, without counters. With worker processes
   * the main process holds these itself (it runs the checks and keeps the admin states), so no worker is asked: a
   * change's answer costs no round trip to the workers (docs/workers.md, "Merged view").
   */
  serverStates(): Promise<ServerState[]>;
  history(): Promise<StatsSample[]>;
  sessions(): Promise<SessionInfo[]>;
  /**
   * What apply would refuse, without applying: the same static checks and host name resolution.
   * Rejects with RuntimeError INVALID_SNAPSHOT naming the field (cause_code: the DNS error code).
   */
  check(candidate: Snapshot): Promise<void>;
  /** What applying `candidate` would do to live traffic, without applying it. */
  impact(candidate: Snapshot): Promise<ImpactReport>;
  onEvent(listener: (event: RuntimeEvent) => void): () => void;
  /** Calls `listener` once per ended session; returns the unsubscribe function. Nothing is built without one. */
  onSessionEnd(listener: (record: SessionEndRecord) => void): () => void;
  /** Which listener paths (private Node internals or public fallbacks) are in use, and why. */
  listenerPaths(): Promise<ListenerPathsReport>;
  /** Stops listeners and checks; closes live sessions; resolves with how many were closed. */
  close(): Promise<number>;
}

/** How a listener at its limit stops taking clients (docs/runtime-hot-path.md, "Node internals"). */
export type PausePath = 'readstop' | 'hold';
/** How accepted sockets are created. */
export type AcceptPath = 'onread' | 'public';

/** Which paths a runtime's listeners use, and why: plain data for the start log, /healthz and tests. */
export type WritePath = 'handle' | 'stream';

export interface ListenerPaths {
  /** `readstop`: stops polling the listening socket, clients wait in the kernel (private internals);
   *  `hold`: accepts and holds the socket unread (public API). */
  pause: PausePath;
  /** `onread`: accepted sockets read into the runtime's buffer (private internals); `public`: 'data' events. */
  accept: AcceptPath;
  /** Why each path was chosen: "self-test passed", "turned off by setting …", "self-test failed: …". */
  /** `handle`: the relay writes through the sockets' libuv handles (private internals); `stream`: `socket.write()`. */
  write: WritePath;
  pauseReason: string;
  acceptReason: string;
  writeReason: string;
  /** The Node version the self-tests ran on. */
  node: string;
}

/** The path one listener really uses: it differs from the runtime's when a return code said no. */
export interface ListenerPathReport {
  frontend: string;
  address: string;
  port: number;
  pause: PausePath;
  accept: AcceptPath;
  /** Connections accepted over the limit and held unread (only the hold path, or one accept burst, makes any). */
  held: number;
  /** Why this listener fell back to holding, if it did (e.g. "readStop() -> EINVAL"). */
  pauseFallback?: string;
}

export interface ListenerPathsReport extends ListenerPaths {
  listeners: ListenerPathReport[];
}
