// The data plane: reconciles listeners, backends, servers and checkers to a snapshot, and relays
// connections. Driven only through ProxyRuntimeApi (plain data in and out).
//
// This class is the facade: apply (apply.ts, bind-plan.ts, backend-reconcile.ts), health checks
// (server-health.ts), connections (connections.ts, dispatch.ts) and operator actions
// (server-admin.ts) are plain functions over one RuntimeState (state.ts).
import type { Socket } from 'node:net';
import type { Snapshot } from '../schema/snapshot.js';
import { applySnapshot } from './apply.js';
import type { BackendRuntime, ServerRuntime } from './backend.js';
import * as connections from './connections.js';
import * as dispatch from './dispatch.js';
import type { FrontendRuntime } from './frontend.js';
import { computeImpact } from './impact.js';
import type { Listener, ListenerHost } from './listener.js';
import * as admin from './server-admin.js';
import { stopChecker } from './server-health.js';
import { CLIENT_ONREAD, type ConnectFailure, type Session, type SessionHost } from './session.js';
import { type Log, RuntimeState } from './state.js';
import { buildStats, takeSample } from './stats-view.js';
import { HistoryRing } from './stats.js';
import type {
  AdminState,
  ApplyOptions,
  ApplyResult,
  ImpactReport,
  ProxyRuntimeApi,
  RuntimeEvent,
  RuntimeStats,
  ServerStateResult,
  SessionInfo,
  StatsSample,
} from './types.js';

export interface ProxyRuntimeOptions {
  /** Once-a-second samples kept (default 1200: 20 minutes). */
  historySize?: number;
  /** How often idle sessions are looked for (default 1000 ms). */
  sweepIntervalMs?: number;
  log?: Log;
}

export class ProxyRuntime implements ProxyRuntimeApi, SessionHost, ListenerHost {
  private readonly state: RuntimeState;
  readonly frontends: Map<string, FrontendRuntime>;
  readonly backends: Map<string, BackendRuntime>;
  /** Servers removed from the snapshot that still carry sessions (an explicit shutdown can reach them). */
  readonly retiredServers: Map<string, ServerRuntime>;
  readonly sessionMap: Map<string, Session>;
  private readonly historyRing: HistoryRing;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly sampleTimer: NodeJS.Timeout;
  private readonly startedAt = Date.now();
  private applying: Promise<unknown> = Promise.resolve();
  readonly clientOnRead = CLIENT_ONREAD;

  constructor(options: ProxyRuntimeOptions = {}) {
    this.state = new RuntimeState(this, options.log ?? (() => {}));
    this.frontends = this.state.frontends;
    this.backends = this.state.backends;
    this.retiredServers = this.state.retiredServers;
    this.sessionMap = this.state.sessionMap;
    this.historyRing = new HistoryRing(Math.max(900, options.historySize ?? 1200));
    this.sweepTimer = setInterval(
      () => connections.sweep(this.state),
      Math.max(10, options.sweepIntervalMs ?? 1000),
    );
    this.sweepTimer.unref();
    this.sampleTimer = setInterval(() => this.historyRing.push(takeSample(this, Date.now())), 1000);
    this.sampleTimer.unref();
  }

  apply(snapshot: Snapshot, options: ApplyOptions = {}): Promise<ApplyResult> {
    // One apply at a time: binds of two applies must not interleave.
    const run = this.applying.then(() => applySnapshot(this.state, snapshot, options));
    this.applying = run.catch(() => {});
    return run;
  }

  async setServerState(
    backend: string,
    server: string,
    state: AdminState,
    options: { shutdownSessions?: boolean } = {},
  ): Promise<ServerStateResult> {
    return admin.setServerState(this.state, backend, server, state, options);
  }

  async shutdownSessions(backend: string, server?: string): Promise<number> {
    return admin.shutdownSessions(this.state, backend, server);
  }

  async killSession(id: string): Promise<boolean> {
    const session = this.sessionMap.get(id);
    return session !== undefined && session.destroy('killed');
  }

  // SessionHost and ListenerHost: what the relay and the listeners call back.

  accept(listener: Listener, socket: Socket): void {
    connections.accept(this.state, listener, socket);
  }

  listenerError(listener: Listener, error: NodeJS.ErrnoException): void {
    // EMFILE and friends on accept: libuv already closed the pending connection; count and go on.
    listener.frontend.counters.drops++;
    this.state.log('error', `frontend ${listener.frontend.name}: ${error.code ?? error.message}`);
  }

  listenerDrop(listener: Listener): void {
    listener.frontend.counters.drops++;
  }

  connectTimeout(): number {
    return this.state.snapshot.defaults.timeouts.connect;
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
    return dispatch.connectFailed(this.state, session, server, code, durationMs);
  }

  proxyHeader(session: Session): Buffer | undefined {
    return connections.proxyHeader(session);
  }

  sessionClosed(session: Session): void {
    connections.sessionClosed(this.state, session);
  }

  async stats(): Promise<RuntimeStats> {
    return buildStats(this, Date.now(), this.startedAt);
  }

  async history(): Promise<StatsSample[]> {
    return this.historyRing.toArray();
  }

  async sessions(): Promise<SessionInfo[]> {
    const out: SessionInfo[] = [];
    for (const session of this.sessionMap.values()) out.push(session.info());
    return out;
  }

  async impact(candidate: Snapshot): Promise<ImpactReport> {
    return computeImpact(this.state.snapshot, candidate, await this.sessions());
  }

  /** The snapshot last applied (a copy). */
  current(): Snapshot {
    return structuredClone(this.state.snapshot);
  }

  get currentSnapshot(): Snapshot {
    return this.state.snapshot;
  }

  onEvent(listener: (event: RuntimeEvent) => void): () => void {
    return this.state.onEvent(listener);
  }

  async close(): Promise<number> {
    const state = this.state;
    if (state.closed) return 0;
    state.closed = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.sampleTimer);
    for (const listener of state.listeners) listener.close();
    state.listeners.clear();
    for (const backend of this.backends.values()) for (const server of backend.servers) stopChecker(server);
    let count = 0;
    for (const session of [...this.sessionMap.values()]) if (session.destroy('runtime closed')) count++;
    await this.applying;
    return count;
  }
}
