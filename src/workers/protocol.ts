// The messages between the main process (WorkerPool) and a worker process (worker-main.ts), over
// node:cluster's IPC channel. Plain JSON data only, like ProxyRuntimeApi itself.
import type { LoginRequest, LoginVerdict } from '../runtime/login-admission.js';
import type { HealthPush } from '../runtime/runtime.js';
import type { SessionEndRecord, RuntimeEvent } from '../runtime/types.js';

/** ProxyRuntimeApi methods (and the worker-only ones) a worker answers. */
export type WorkerMethod =
  | 'apply'
  | 'setServerState'
  | 'retryFrontend'
  | 'shutdownSessions'
  | 'killSession'
  | 'stats'
  | 'history'
  | 'sessions'
  | 'check'
  | 'listenerPaths'
  | 'releaseShare'
  | 'addShare'
  | 'close';

export type ToWorker =
  | { t: 'call'; id: number; method: WorkerMethod; args: unknown[] }
  | { t: 'health'; entries: HealthPush[] }
  | { t: 'remote-sessions'; counts: Record<string, number> }
  | { t: 'session-ends'; on: boolean }
  /** The verdict on a worker's `admit` (login-gate-client.ts). */
  | { t: 'admitted'; id: number; verdict: LoginVerdict }
  /** Answer to 'share-low': share moved here from the other workers, per key (0: none had room to spare). */
  | { t: 'share-grant'; grants: Record<string, number> };

/** An error as it crosses the channel: RuntimeError's fields, or a plain message. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  subject?: Record<string, string>;
  cause_code?: string;
}

export type FromWorker =
  | { t: 'ready' }
  /** A runtime log line, written by the main process's logger (one log format for the appliance). */
  | { t: 'log'; level: 'info' | 'warn' | 'error'; message: string; data?: object }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: WireError }
  | { t: 'event'; event: RuntimeEvent }
  | { t: 'session-ends'; records: SessionEndRecord[] }
  /** A CONNECT on a backend with CMPP limits: the main process owns the counts (login-admission.ts). */
  | { t: 'admit'; id: number; request: LoginRequest }
  /** An admitted session ended: its account's slot is free again. */
  | { t: 'release'; backend: string; account: string }
  /** Limits whose share in this worker is (nearly) used up, key ('*': defaults.maxconn; else a frontend's
   *  name) -> free room (negative: more connections held than room). */
  | { t: 'share-low'; free: Record<string, number> }
  | {
      t: 'report';
      sessions: number;
      rssBytes: number;
      acceptErrors: number;
      /** Live sessions per server, "backend/server" -> count (only servers with any). */
      servers: Record<string, number>;
    };

/** How often a worker reports its counts (leastconn's view of the other workers is at most this old). */
export const REPORT_INTERVAL_MS = 250;
/** Session-end records are sent in batches: at most this many, at least this often. */
export const SESSION_END_BATCH = 256;
export const SESSION_END_FLUSH_MS = 100;
/** A worker refused more share (the appliance is near its limit) asks again after this long if still short,
 *  the pause doubling up to SHARE_RETRY_MAX_MS while refusals go on. */
export const SHARE_RETRY_MS = 200;
export const SHARE_RETRY_MAX_MS = 1000;
