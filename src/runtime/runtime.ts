// The data plane: reconciles listeners, backends, servers and checkers to a snapshot, and relays
// connections. Driven only through ProxyRuntimeApi (plain data in and out).
//
// This class is the facade: apply (apply.ts, bind-plan.ts, backend-reconcile.ts), host names
// (resolver.ts), FAILED frontends' bind retries (bind-retry.ts), health checks (server-health.ts),
// connections (connections.ts, dispatch.ts) and operator actions (server-admin.ts) are plain
// functions over one RuntimeState (state.ts), which stays private.
import type { Socket } from 'node:net';
import type { Snapshot } from '../schema/snapshot.js';
import { applySnapshot, checkCandidate } from './apply.js';
import { attemptBind, cancelBindRetry } from './bind-retry.js';
import type { ServerRuntime } from './backend.js';
import * as connections from './connections.js';
import * as dispatch from './dispatch.js';
import { RuntimeError } from './errors.js';
import { computeImpact } from './impact.js';
import { openDescriptorCount, openFileLimit, sessionBudget } from './descriptors.js';
import type { Listener, ListenerHost } from './listener.js';
import { resolveListenerPaths } from './node-internals.js';
import { rawBindings, type RawBindings } from './raw-upstream.js';
import { refreshNames, systemLookup, type Lookup } from './resolver.js';
import * as admin from './server-admin.js';
import { reconcileChecker, stopChecker } from './server-health.js';
import { CLIENT_ONREAD, type ConnectFailure, type Session, type SessionHost } from './session.js';
import { type BindRetrySettings, type ExternalHealth, type Log, RuntimeState } from './state.js';
import { buildStats, frontendStats, takeSample } from './stats-view.js';
import { HistoryRing } from './stats.js';
import { admitLogin, type LoginGate } from './login-gate.js';
import type {
  AcceptErrorStats,
  AdminState,
  ApplyOptions,
  ApplyResult,
  FrontendStats,
  ImpactReport,
  ListenerPaths,
  ListenerPathsReport,
  ProxyRuntimeApi,
  RuntimeEvent,
  RuntimeStats,
  ServerState,
  ServerStateResult,
  ShutdownOptions,
  SessionEndRecord,
  SessionInfo,
  StatsOptions,
  StatsSample,
} from './types.js';

export interface ProxyRuntimeOptions {
  /** Once-a-second samples kept (default 1200: 20 minutes). */
  historySize?: number;
  /** How often idle sessions are looked for (default 1000 ms). */
  sweepIntervalMs?: number;
  /** Server host names: how they are looked up (default: the system resolver), re-resolved every
   *  intervalMs (default 30 s), a lookup slower than timeoutMs (default 5 s) failing. */
  resolver?: { lookup?: Lookup; intervalMs?: number; timeoutMs?: number };
  /** Backoff of a FAILED frontend's bind retries (default 1 s doubling to 30 s). */
  bindRetry?: Partial<BindRetrySettings>;
  /** Connections held unread per listener at its limit on the public pause path (default 4096). */
  maxHeldPerListener?: number;
  log?: Log;
  /** false: never use private Node internals, only the public fallbacks (TETHER_NODE_INTERNALS=off). Default true. */
  nodeInternals?: boolean;
  /** true in a worker process: listeners share the cluster primary's socket instead of binding their own. */
  sharedListeners?: boolean;
  /** 'external': no checkers here; health is pushed with pushHealth (docs/workers.md). Default 'local'. */
  checks?: 'local' | 'external';
  /** How long a listener stops accepting after EMFILE/ENFILE (default 1000 ms). */
  acceptErrorPauseMs?: number;
  /** Who admits logins on backends with CMPP limits (default: counts kept here; workers: the main process's). */
  loginGate?: LoginGate;
  /** Sessions this process may hold before it stops accepting: 'auto' (default) derives it from the
   *  open-file limit (descriptors.ts), 'off' leaves it to the kernel's EMFILE, a number sets it. */
  sessionBudget?: 'auto' | 'off' | number;
}

/** Server health pushed into a runtime whose checks are external. */
export interface HealthPush extends ExternalHealth {
  backend: string;
  server: string;
}

export class ProxyRuntime implements ProxyRuntimeApi, SessionHost, ListenerHost {
  // Live state stays private: callers (and, later, worker processes' parents) see plain data only.
  private readonly state: RuntimeState;
  /** Relay writes through libuv handles: set once the self-tests are done, before any listener listens. */
  directWrites = false;
  /** With directWrites: sessions' server sides on raw handles (raw-upstream.ts). */
  rawUpstream: RawBindings | null = null;
  private readonly historyRing: HistoryRing;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly sampleTimer: NodeJS.Timeout;
  private readonly resolveTimer: NodeJS.Timeout;
  private readonly startedAt = Date.now();
  readonly clientOnRead = CLIENT_ONREAD;
  readonly sharedListen: boolean;
  private readonly paths: Promise<ListenerPaths>;
  private readonly acceptErrors: AcceptErrorStats = { errors: 0, pauses: 0, lastCode: '', lastAt: 0 };
  private readonly acceptErrorPauseMs: number;
  /** When accept errors were last logged, and how many came since: one line per interval, not per error. */
  private acceptErrorLoggedAt = 0;
  private acceptErrorsUnlogged = 0;

  constructor(options: ProxyRuntimeOptions = {}) {
    const resolver = {
      lookup: options.resolver?.lookup ?? systemLookup,
      intervalMs: Math.max(10, options.resolver?.intervalMs ?? 30_000),
      timeoutMs: Math.max(1, options.resolver?.timeoutMs ?? 5000),
    };
    this.state = new RuntimeState(
      this,
      options.log ?? (() => {}),
      {
        initialMs: Math.max(1, options.bindRetry?.initialMs ?? 1000),
        maxMs: Math.max(1, options.bindRetry?.maxMs ?? 30_000),
      },
      resolver,
    );
    this.sharedListen = options.sharedListeners === true;
    this.state.externalChecks = options.checks === 'external';
    this.acceptErrorPauseMs = Math.max(10, options.acceptErrorPauseMs ?? 1000);
    if (options.loginGate !== undefined) this.state.loginGate = options.loginGate;
    this.state.sessionBudget = chooseSessionBudget(options.sessionBudget ?? 'auto');
    if (Number.isFinite(this.state.sessionBudget)) {
      this.state.log(
        'info',
        `descriptors: open-file limit ${openFileLimit() ?? 'unknown'}, accepting up to ${this.state.sessionBudget} sessions`,
      );
    }
    if (options.maxHeldPerListener !== undefined) {
      this.state.maxHeldPerListener = Math.max(1, options.maxHeldPerListener);
    }
    this.resolveTimer = setInterval(() => void refreshNames(this.state), resolver.intervalMs);
    this.resolveTimer.unref();
    // Self-tested now (once per process), so the start log says which paths the listeners will use.
    this.paths = resolveListenerPaths({ internals: options.nodeInternals !== false, onread: true });
    void this.paths.then((p) => {
      this.directWrites = p.write === 'handle';
      this.rawUpstream = this.directWrites ? rawBindings() : null;
      this.state.log(
        'info',
        `listeners: pause=${p.pause} (${p.pauseReason}), accept=${p.accept} (${p.acceptReason}), ` +
          `relay writes=${p.write} (${p.writeReason}), node ${p.node}`,
      );
    });
    this.historyRing = new HistoryRing(Math.max(900, options.historySize ?? 1200));
    this.sweepTimer = setInterval(
      () => connections.sweep(this.state),
      Math.max(10, options.sweepIntervalMs ?? 1000),
    );
    this.sweepTimer.unref();
    this.sampleTimer = setInterval(() => this.historyRing.push(takeSample(this.state, Date.now())), 1000);
    this.sampleTimer.unref();
  }

  apply(snapshot: Snapshot, options: ApplyOptions = {}): Promise<ApplyResult> {
    // One apply (or bind retry) at a time: their binds must not interleave.
    return this.state.exclusive(async () => {
      const result = await applySnapshot(this.state, snapshot, options);
      // A server that left forgets its pushed health: added back later, it is UP until the main process says
      // otherwise, as its new checker there starts UP (a kept DOWN would refuse it while stats say UP).
      if (this.state.externalChecks) this.pruneExternalHealth();
      return result;
    });
  }

  retryFrontend(name: string): Promise<FrontendStats> {
    return this.state.exclusive(async () => {
      const frontend = this.state.frontends.get(name);
      if (!frontend) throw new RuntimeError('UNKNOWN_FRONTEND', `no frontend "${name}"`, { frontend: name });
      await attemptBind(this.state, frontend, 'retry');
      return frontendStats(this.state, frontend, Date.now());
    });
  }

  async setServerState(
    backend: string,
    server: string,
    state: AdminState,
    options: { shutdownSessions?: boolean } = {},
  ): Promise<ServerStateResult> {
    return admin.setServerState(this.state, backend, server, state, options);
  }

  async shutdownSessions(backend: string, server?: string, options: ShutdownOptions = {}): Promise<number> {
    return admin.shutdownSessions(this.state, backend, server, options);
  }

  async killSession(id: string): Promise<boolean> {
    const session = this.state.sessionMap.get(id);
    return session !== undefined && session.destroy('killed', 'K');
  }

  // SessionHost and ListenerHost: what the relay and the listeners call back.

  accept(listener: Listener, socket: Socket): void {
    connections.accept(this.state, listener, socket);
  }

  listenerError(listener: Listener, error: NodeJS.ErrnoException): void {
    // EMFILE and friends on accept: libuv already closed the pending connection; count and go on.
    listener.frontend.counters.drops++;
    if (error.code === 'EMFILE' || error.code === 'ENFILE') {
      this.outOfDescriptors(`accept (frontend ${listener.frontend.name})`, error.code);
      return;
    }
    this.state.log('error', `frontend ${listener.frontend.name}: ${error.code ?? error.message}`);
  }

  /**
   * Out of descriptors (EMFILE/ENFILE on accept, or on the server side of a new session: libuv's own accept
   * path usually swallows it, closing the pending clients): keep serving what is open, stop accepting on
   * every listener for a moment so new clients wait in the kernel's backlog, count, log once per interval.
   */
  private outOfDescriptors(where: string, code: string): void {
    const now = Date.now();
    this.noteAcceptError(code, now);
    if (this.pauseListenersAfterError(now)) {
      this.acceptErrors.pauses++;
      // One timer per pause (not per error): then the limits decide again whether each listener accepts.
      setTimeout(() => {
        for (const listener of this.state.listeners) listener.errorPausedUntil = 0;
        if (!this.state.closed) connections.updateAcceptPauses(this.state);
      }, this.acceptErrorPauseMs).unref();
    }
    this.logAcceptErrors(
      now,
      `out of file descriptors: ${code} on ${where} (${this.acceptErrorsUnlogged} since the last line, ${this.acceptErrors.errors} in all); accepting paused ${this.acceptErrorPauseMs} ms, open sessions go on`,
    );
  }

  /** The descriptor budget is reached: accepting is paused until a session ends (the limits in connections.ts). */
  sessionBudgetReached(sessions: number, budget: number): void {
    const now = Date.now();
    this.noteAcceptError('EMFILE', now);
    this.acceptErrors.pauses++;
    this.logAcceptErrors(
      now,
      `out of file descriptors: EMFILE ahead: ${sessions} sessions fill the open-file limit (${budget} fit); accepting paused until sessions end, open sessions go on (${this.acceptErrors.errors} in all)`,
    );
  }

  /** Counts one accept error, by either path. */
  private noteAcceptError(code: string, now: number): void {
    const counts = this.acceptErrors;
    counts.errors++;
    counts.lastCode = code;
    counts.lastAt = now;
    this.acceptErrorsUnlogged++;
  }

  /** Pauses every listener not paused by an error already; true when it paused one. */
  private pauseListenersAfterError(now: number): boolean {
    let paused = false;
    for (const listener of this.state.listeners) {
      if (listener.errorPausedUntil > now || listener.closed) continue;
      listener.errorPausedUntil = now + this.acceptErrorPauseMs;
      listener.pause();
      paused = true;
    }
    return paused;
  }

  /** One line per interval, not per error. */
  private logAcceptErrors(now: number, line: string): void {
    if (now - this.acceptErrorLoggedAt < this.acceptErrorPauseMs) return;
    this.state.log('error', line);
    this.acceptErrorLoggedAt = now;
    this.acceptErrorsUnlogged = 0;
  }

  /** Health decided by checkers elsewhere (checks: 'external'): servers follow it, with the usual consequences. */
  pushHealth(entries: HealthPush[]): void {
    for (const entry of entries) {
      const key = `${entry.backend}/${entry.server}`;
      this.state.externalHealth.set(key, {
        health: entry.health,
        checkStatus: entry.checkStatus,
        description: entry.description,
      });
      const backend = this.state.backends.get(entry.backend);
      const server = backend?.byName.get(entry.server);
      if (backend && server) reconcileChecker(this.state, backend, server, this.state.snapshot);
    }
    // Health of servers that left the snapshot is forgotten, so the map stays as big as the config.
    if (this.state.externalHealth.size > 2 * entries.length + 64) this.pruneExternalHealth();
  }

  private pruneExternalHealth(): void {
    for (const key of this.state.externalHealth.keys()) {
      const [backend, ...rest] = key.split('/');
      if (!this.state.backends.get(backend)?.byName.has(rest.join('/')))
        this.state.externalHealth.delete(key);
    }
  }

  /** Cheap counts for a worker's periodic report: live sessions, per-server sessions (only non-zero), accept errors. */
  loadReport(): { sessions: number; servers: Record<string, number>; acceptErrors: number } {
    const servers: Record<string, number> = {};
    for (const backend of this.state.backends.values()) {
      for (const server of backend.servers)
        if (server.sessions.size > 0) servers[server.key] = server.sessions.size;
    }
    return { sessions: this.state.sessionMap.size, servers, acceptErrors: this.acceptErrors.errors };
  }

  /** Sessions other workers hold per server ("backend/server" -> count), for leastconn (docs/workers.md). */
  setRemoteSessions(counts: Record<string, number>): void {
    for (const backend of this.state.backends.values()) {
      for (const server of backend.servers) server.remoteSessions = counts[server.key] ?? 0;
    }
  }

  // Limit shares in a worker process (connections.ts, "limit shares"; docs/workers.md). Keys: '*' for
  // defaults.maxconn, a frontend's name for its own maxconn.

  /** Called (on accept) when a limit's share here is (nearly) used up; one listener. */
  onShareLow(listener: (() => void) | null): void {
    this.state.shareLow = listener;
  }

  /** Gives share of a limit towards a worker with `theirFree` room (split over `parts` workers); returns how much. */
  releaseShare(key: string, theirFree: number, parts: number): number {
    return connections.releaseShare(this.state, key, theirFree, parts);
  }

  /** This worker's share of each accept limit (key -> share), right after an apply. */
  setShares(shares: Record<string, number>): void {
    connections.setShares(this.state, shares);
  }

  /** More share for a limit: held connections start, paused listeners resume. */
  addShare(key: string, count: number): void {
    connections.addShare(this.state, key, count);
  }

  /** The limits whose share here is (nearly) used up, key -> free room. */
  lowShares(): Record<string, number> {
    return connections.lowShares(this.state);
  }

  pathsInUse(): Promise<ListenerPaths> {
    return this.paths;
  }

  /** The runtime's paths, and each listener's. */
  async listenerPaths(): Promise<ListenerPathsReport> {
    const paths = await this.paths;
    const listeners = [...this.state.listeners].map((listener) => listener.report());
    return { ...paths, listeners };
  }

  listenerDrop(listener: Listener): void {
    listener.frontend.counters.drops++;
  }

  connectTimeout(session: Session): number {
    return session.backend.config.timeouts?.connect ?? this.state.snapshot.defaults.timeouts.connect;
  }

  electFirst(session: Session, account: string | undefined): ServerRuntime | undefined {
    return dispatch.electFirst(session, account);
  }

  connectFailed(
    session: Session,
    server: ServerRuntime,
    code: ConnectFailure,
    durationMs: number,
  ): ServerRuntime | undefined {
    if (code === 'EMFILE' || code === 'ENFILE') this.outOfDescriptors(`connect to ${server.key}`, code);
    return dispatch.connectFailed(this.state, session, server, code, durationMs);
  }

  proxyHeader(session: Session): Buffer | undefined {
    return connections.proxyHeader(session);
  }

  sessionClosed(session: Session): void {
    connections.sessionClosed(this.state, session);
  }

  admitLogin(session: Session, account: string): void {
    const cmpp = session.backend.config.cmpp;
    if (cmpp === undefined) session.electAndConnect(account);
    else
      admitLogin(this.state.loginGate, this.state.delayedRefusals, session, cmpp, account, connectAdmitted);
  }

  async stats(options: StatsOptions = {}): Promise<RuntimeStats> {
    const stats = buildStats(this.state, Date.now(), this.startedAt, options.cmppAccounts !== false);
    return { ...stats, acceptErrors: { ...this.acceptErrors } };
  }

  async serverStates(): Promise<ServerState[]> {
    const stats = buildStats(this.state, Date.now(), this.startedAt, false);
    return stats.backends.flatMap((b) =>
      b.servers.map((s) => ({
        backend: b.name,
        server: s.name,
        adminState: s.adminState,
        health: s.health,
        status: s.status,
      })),
    );
  }

  async history(): Promise<StatsSample[]> {
    return this.historyRing.toArray();
  }

  async sessions(): Promise<SessionInfo[]> {
    const out: SessionInfo[] = [];
    for (const session of this.state.sessionMap.values()) out.push(session.info());
    return out;
  }

  check(candidate: Snapshot): Promise<void> {
    return checkCandidate(this.state, candidate);
  }

  async impact(candidate: Snapshot): Promise<ImpactReport> {
    return computeImpact(this.state.snapshot, candidate, await this.sessions());
  }

  onEvent(listener: (event: RuntimeEvent) => void): () => void {
    return this.state.onEvent(listener);
  }

  onSessionEnd(listener: (record: SessionEndRecord) => void): () => void {
    return this.state.onSessionEnd(listener);
  }

  async close(): Promise<number> {
    const state = this.state;
    if (state.closed) return 0;
    state.closed = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.sampleTimer);
    clearInterval(this.resolveTimer);
    for (const listener of state.listeners) listener.close();
    state.listeners.clear();
    for (const frontend of state.frontends.values()) cancelBindRetry(frontend);
    for (const backend of state.backends.values()) for (const server of backend.servers) stopChecker(server);
    let count = 0;
    for (const session of [...state.sessionMap.values()]) if (session.destroy('runtime closed', 'K')) count++;
    state.delayedRefusals.flush();
    await state.idle();
    return count;
  }
}

/** An admitted login goes on as any session: elect a server (by account for cmpp-account) and connect. */
function connectAdmitted(session: Session): void {
  session.electAndConnect(session.account);
}

function chooseSessionBudget(setting: 'auto' | 'off' | number): number {
  if (setting === 'off') return Number.POSITIVE_INFINITY;
  if (setting === 'auto') return sessionBudget(openFileLimit(), openDescriptorCount());
  return Math.max(1, Math.floor(setting));
}
