// The live state every part of the runtime reads or reconciles, keyed by name so it survives applies
// that don't touch it. One instance per runtime; the modules around it are plain functions over it.
import { DEFAULT_DEFAULTS, type Snapshot } from '../schema/snapshot.js';
import type { BackendRuntime, ServerRuntime } from './backend.js';
import { CmppAccounts } from './cmpp-stats.js';
import type { FrontendRuntime } from './frontend.js';
import type { Listener, ListenerHost } from './listener.js';
import type { NameEntry, ResolverSettings } from './resolver.js';
import type { Session, SessionHost } from './session.js';
import type { CheckStatus, Health, RuntimeEvent, SessionEndRecord } from './types.js';
import { DelayedRefusals, LocalLoginGate, type LoginGate } from './login-gate.js';

/** A server's health as decided by checkers outside this runtime (worker processes: the main process). */
export interface ExternalHealth {
  health: Health;
  checkStatus: CheckStatus | '';
  description: string;
}

export type Log = (level: 'info' | 'warn' | 'error', msg: string, data?: object) => void;

/** Backoff of a FAILED frontend's bind retries: the first after `initialMs`, doubling up to `maxMs`. */
export interface BindRetrySettings {
  initialMs: number;
  maxMs: number;
}

/** As deep as the kernel's accept backlog (Node's default 511, Linux somaxconn 4096): holding more serves no one sooner. */
export const DEFAULT_MAX_HELD_PER_LISTENER = 4096;

export class RuntimeState {
  snapshot: Snapshot = { defaults: structuredClone(DEFAULT_DEFAULTS), frontends: [], backends: [] };
  readonly frontends = new Map<string, FrontendRuntime>();
  readonly backends = new Map<string, BackendRuntime>();
  /** Servers removed from the snapshot that still carry sessions (an explicit shutdown can reach them). */
  readonly retiredServers = new Map<string, ServerRuntime>();
  readonly sessionMap = new Map<string, Session>();
  /** CMPP inspection counters per SP account (bounded: cmpp-stats.ts). */
  readonly cmppAccounts = new CmppAccounts();
  readonly listeners = new Set<Listener>();
  /** Server host names and their answers (resolver.ts). */
  readonly names = new Map<string, NameEntry>();
  refreshingNames = false;
  nextSessionId = 0;
  /** Paused by the global cap (defaults.maxconn) rather than a frontend's own. */
  globallyPaused = false;
  /** Sessions that fit under the open-file limit (descriptors.ts); Infinity when unknown or turned off. */
  sessionBudget = Number.POSITIVE_INFINITY;
  /** At the budget now: counted and logged once per time it is reached, not per accept. */
  atSessionBudget = false;
  closed = false;
  /** The tail of the queue of applies and bind retries: binds of two of them never interleave. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly eventListeners = new Set<(event: RuntimeEvent) => void>();
  /** Session-end listeners (session logs); sessions build their record only when there is one. */
  readonly sessionEndListeners = new Set<(record: SessionEndRecord) => void>();

  /** Health comes from outside (the main process's checkers, pushed with pushHealth), not from checkers here. */
  externalChecks = false;
  /** The last pushed health of each server, keyed "backend/server", so servers built later start with it. */
  readonly externalHealth = new Map<string, ExternalHealth>();

  /** Who admits logins on backends with CMPP limits: local counts, or the main process's (worker processes). */
  loginGate: LoginGate = new LocalLoginGate();
  /** Refusals for a login rate waiting for their delay. */
  readonly delayedRefusals = new DelayedRefusals();

  /** Connections a listener accepts and holds unread at its limit on the public pause path (the private
   *  path leaves them in the kernel's backlog, bounded by it); past this, new ones are closed at once. */
  maxHeldPerListener = DEFAULT_MAX_HELD_PER_LISTENER;

  /** Worker processes: called when a limit's share here is (nearly) used up (connections.ts, "limit
   *  shares"); null in one process, where a limit is the whole limit. */
  shareLow: (() => void) | null = null;

  constructor(
    /** What sessions and listeners call back into: the runtime itself. */
    readonly host: SessionHost & ListenerHost,
    readonly log: Log,
    readonly bindRetry: BindRetrySettings,
    readonly resolver: ResolverSettings,
  ) {}

  /** Runs `task` after every apply or bind retry queued before it. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Resolves when everything queued so far has finished. */
  idle(): Promise<unknown> {
    return this.queue;
  }

  onEvent(listener: (event: RuntimeEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onSessionEnd(listener: (record: SessionEndRecord) => void): () => void {
    this.sessionEndListeners.add(listener);
    return () => this.sessionEndListeners.delete(listener);
  }

  emitSessionEnd(record: SessionEndRecord): void {
    for (const listener of this.sessionEndListeners) {
      try {
        listener(record);
      } catch (error) {
        this.log('error', 'session-end listener failed', { error: String(error) });
      }
    }
  }

  emit(event: RuntimeEvent): void {
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (error) {
        this.log('error', 'event listener failed', { error: String(error) });
      }
    }
  }
}
