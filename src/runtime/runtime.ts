// The data plane: reconciles listeners, backends, servers and checkers to a snapshot, and relays
// connections. Driven only through ProxyRuntimeApi (plain data in and out).
//
// apply() follows Caddy's pipeline: validate a copy, bind what is new, swap synchronously, then close
// what is gone. Everything is keyed by name (gobetween): a frontend, server, checker or counter that a
// change doesn't touch keeps running, and listeners keep their socket while their config is swapped.
import type { Socket } from 'node:net';
import { DEFAULT_DEFAULTS, type Snapshot } from '../config/snapshot.js';
import { electServer, isInService, isUsable } from './availability.js';
import { BackendRuntime, ServerRuntime } from './backend.js';
import { unwrapMappedIPv4 } from './cidr.js';
import { RuntimeError } from './errors.js';
import { FrontendRuntime } from './frontend.js';
import { HealthChecker } from './health/checker.js';
import { computeImpact } from './impact.js';
import type { Probe, ProbeResult } from './health/probe.js';
import { tcpProbe } from './health/tcp-probe.js';
import { BindError, Listener, type ListenerHost } from './listener.js';
import { encodeProxyV1, encodeProxyV2 } from './proxy-protocol.js';
import { CLIENT_ONREAD, type ConnectFailure, Session, type SessionHost } from './session.js';
import { checkSnapshot } from './snapshot-check.js';
import { buildStats, takeSample } from './stats-view.js';
import { HistoryRing } from './stats.js';
import type {
  AdminState,
  ApplyOptions,
  ApplyResult,
  FrontendFailure,
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
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: object) => void;
}

/** How long a cmpp-account backend waits for the CMPP_CONNECT before hashing the client IP instead. */
const ACCOUNT_WAIT_MS = 2000;

const probes: Record<string, Probe> = {
  tcp: tcpProbe,
  // Until a CMPP login probe exists, a cmpp check still proves the port answers.
  cmpp: tcpProbe,
};

export class ProxyRuntime implements ProxyRuntimeApi, SessionHost, ListenerHost {
  private snapshot: Snapshot = { defaults: structuredClone(DEFAULT_DEFAULTS), frontends: [], backends: [] };
  readonly frontends = new Map<string, FrontendRuntime>();
  readonly backends = new Map<string, BackendRuntime>();
  /** Servers removed from the snapshot that still carry sessions (an explicit shutdown can reach them). */
  readonly retiredServers = new Map<string, ServerRuntime>();
  readonly sessionMap = new Map<string, Session>();
  private nextSessionId = 0;
  private readonly listeners = new Set<Listener>();
  private readonly eventListeners = new Set<(event: RuntimeEvent) => void>();
  private readonly historyRing: HistoryRing;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly sampleTimer: NodeJS.Timeout;
  private readonly log: NonNullable<ProxyRuntimeOptions['log']>;
  private readonly startedAt = Date.now();
  private applying: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Paused by the global cap (defaults.maxconn) rather than a frontend's own. */
  private globallyPaused = false;
  readonly clientOnRead = CLIENT_ONREAD;

  constructor(options: ProxyRuntimeOptions = {}) {
    this.historyRing = new HistoryRing(Math.max(900, options.historySize ?? 1200));
    this.log = options.log ?? (() => {});
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(10, options.sweepIntervalMs ?? 1000));
    this.sweepTimer.unref();
    this.sampleTimer = setInterval(() => this.historyRing.push(this.sample()), 1000);
    this.sampleTimer.unref();
  }

  // ---- apply ---------------------------------------------------------------------------------

  apply(snapshot: Snapshot, options: ApplyOptions = {}): Promise<ApplyResult> {
    // One apply at a time: binds of two applies must not interleave.
    const run = this.applying.then(() => this.applyNow(snapshot, options));
    this.applying = run.catch(() => {});
    return run;
  }

  private async applyNow(input: Snapshot, options: ApplyOptions): Promise<ApplyResult> {
    if (this.closed) throw new RuntimeError('CLOSED', 'runtime is closed');
    const next = structuredClone(input);
    checkSnapshot(next);

    // 1. Bind what is new. A listener whose frontend keeps its bind is kept; one whose bind is
    //    taken over by another frontend in this same change is handed over instead of rebound.
    const kept = new Map<string, Listener>();
    const releasing = new Map<string, Listener>();
    for (const listener of this.listeners) {
      const f = next.frontends.find((c) => c.name === listener.frontend.name);
      if (f && f.enabled && sameBind(listener, f.bind)) kept.set(f.name, listener);
      else releasing.set(bindKey(listener), listener);
    }
    const handedOver = new Map<string, Listener>();
    const toBind: Array<{ name: string; listener: Listener }> = [];
    for (const f of next.frontends) {
      if (!f.enabled || kept.has(f.name)) continue;
      const free = releasing.get(`${f.bind.address}:${f.bind.port}`);
      if (free) {
        releasing.delete(bindKey(free));
        handedOver.set(f.name, free);
        continue;
      }
      const owner = this.frontends.get(f.name) ?? new FrontendRuntime(f);
      toBind.push({ name: f.name, listener: new Listener(owner, f.bind.address, f.bind.port, this) });
    }
    const results = await Promise.allSettled(toBind.map((b) => b.listener.listen()));
    const bound = new Map<string, Listener>();
    const failures: FrontendFailure[] = [];
    results.forEach((result, i) => {
      const { name, listener } = toBind[i];
      if (result.status === 'fulfilled') {
        bound.set(name, listener);
        return;
      }
      const error = result.reason as Error;
      const code =
        error instanceof BindError ? error.code : ((error as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
      failures.push({
        frontend: name,
        code,
        message: `frontend "${name}" cannot bind ${listener.address}:${listener.port}: ${code}`,
      });
    });
    if (failures.length > 0 && !options.tolerateBindErrors) {
      for (const listener of bound.values()) listener.close();
      const first = failures[0];
      throw new RuntimeError('BIND_FAILED', first.message, { frontend: first.frontend }, first.code);
    }
    if (this.closed) {
      for (const listener of bound.values()) listener.close();
      throw new RuntimeError('CLOSED', 'runtime is closed');
    }

    // 2. Swap, synchronously.
    const now = Date.now();
    this.snapshot = next;
    this.reconcileBackends(next, now);
    const failed = new Map(failures.map((f) => [f.frontend, f]));
    const frontends = new Map<string, FrontendRuntime>();
    this.listeners.clear();
    for (const f of next.frontends) {
      const frontend = this.frontends.get(f.name) ?? new FrontendRuntime(f);
      frontend.update(f);
      frontend.retired = false;
      frontend.error = failed.get(f.name);
      const listener = kept.get(f.name) ?? handedOver.get(f.name) ?? bound.get(f.name) ?? null;
      frontend.listener = listener;
      if (listener) {
        listener.frontend = frontend;
        this.listeners.add(listener);
      }
      frontends.set(f.name, frontend);
    }
    for (const [name, old] of this.frontends) {
      if (!frontends.has(name)) old.retired = true;
    }
    this.frontends.clear();
    for (const [name, frontend] of frontends) this.frontends.set(name, frontend);

    // 3. Stop what is gone; its sessions stay until they end.
    for (const listener of releasing.values()) listener.close();
    this.updateAcceptPauses();

    for (const failure of failures) {
      this.log('error', failure.message, failure);
      this.emit({
        type: 'frontend-error',
        frontend: failure.frontend,
        code: failure.code,
        message: failure.message,
        at: now,
      });
    }
    return { failedFrontends: failures };
  }

  private reconcileBackends(next: Snapshot, now: number): void {
    const seen = new Set<string>();
    for (const config of next.backends) {
      let backend = this.backends.get(config.name);
      if (!backend) {
        backend = new BackendRuntime(config);
        this.backends.set(config.name, backend);
      }
      backend.config = config;
      const servers: ServerRuntime[] = [];
      const names = new Set<string>();
      config.servers.forEach((s, index) => {
        const key = `${config.name}/${s.name}`;
        let server = backend.byName.get(s.name);
        if (!server) {
          server = this.retiredServers.get(key);
          if (server) {
            // Back in the snapshot: its old admin state was dropped when it left.
            this.retiredServers.delete(key);
            server.retired = false;
            server.adminState = 'ready';
          } else {
            server = new ServerRuntime(config.name, s, index);
          }
        }
        server.update(s, index);
        servers.push(server);
        names.add(s.name);
        this.reconcileChecker(backend, server, next);
      });
      for (const [name, server] of backend.byName) {
        if (!names.has(name)) this.retireServer(server);
      }
      backend.servers = servers;
      backend.byName.clear();
      for (const server of servers) backend.byName.set(server.config.name, server);
      backend.refreshBalancers();
      backend.setUp(this.backendInService(backend), now);
      seen.add(config.name);
    }
    for (const [name, backend] of this.backends) {
      if (seen.has(name)) continue;
      for (const server of backend.servers) this.retireServer(server);
      this.backends.delete(name);
    }
  }

  private retireServer(server: ServerRuntime): void {
    this.stopChecker(server);
    server.retired = true;
    server.adminState = 'ready';
    if (server.sessions.size > 0) this.retiredServers.set(server.key, server);
  }

  // ---- health checks -------------------------------------------------------------------------

  private reconcileChecker(backend: BackendRuntime, server: ServerRuntime, snapshot: Snapshot): void {
    const check = backend.config.check;
    if (check.type === 'none' || !server.config.check) {
      this.stopChecker(server);
      if (server.health === 'DOWN') this.setHealth(backend, server, 'UP', undefined);
      return;
    }
    const settings = {
      inter: check.inter,
      fall: check.fall,
      rise: check.rise,
      timeout: check.timeout ?? snapshot.defaults.timeouts.check,
    };
    // What the probe talks to; a change there means a new checker, anything else is an update.
    const signature = JSON.stringify([
      check.type,
      server.config.address,
      server.config.port,
      check.cmpp ?? null,
    ]);
    if (server.checker && server.checkerSignature === signature) {
      server.checker.update(settings);
      return;
    }
    this.stopChecker(server);
    const checker = new HealthChecker({
      target: { address: server.config.address, port: server.config.port },
      probe: probes[check.type] ?? tcpProbe,
      ...settings,
      onChange: (health, result) => {
        if (server.checker !== checker) return;
        const current = this.backends.get(server.backendName);
        if (current) this.setHealth(current, server, health, result);
      },
    });
    server.checker = checker;
    server.checkerSignature = signature;
    // A new checker starts UP (like HAProxy); the server is UP until it proves otherwise.
    if (server.health === 'DOWN') this.setHealth(backend, server, 'UP', undefined);
    if (server.adminState === 'maint') checker.pause();
    checker.start();
  }

  private stopChecker(server: ServerRuntime): void {
    const checker = server.checker;
    if (!checker) return;
    checker.stop();
    server.chkfailBase += checker.chkfail;
    server.chkdownBase += checker.chkdown;
    server.downtimeBaseMs += checker.downtimeMs;
    server.checker = undefined;
    server.checkerSignature = '';
  }

  private setHealth(
    backend: BackendRuntime,
    server: ServerRuntime,
    health: 'UP' | 'DOWN',
    result: ProbeResult | undefined,
  ): void {
    const from = server.health;
    if (from === health) return;
    const now = Date.now();
    server.health = health;
    server.lastChangeAt = now;
    this.log(health === 'UP' ? 'info' : 'warn', `server ${server.key} is ${health}`, { check: result });
    this.emit({
      type: 'health',
      backend: backend.name,
      server: server.config.name,
      from,
      to: health,
      checkStatus: result?.status ?? '',
      at: now,
    });
    backend.setUp(this.backendInService(backend), now);
    if (
      health === 'DOWN' &&
      backend.config.onMarkedDown === 'shutdown-sessions' &&
      server.sessions.size > 0
    ) {
      this.closeServerSessions(server, 'marked down');
    }
  }

  private backendInService(backend: BackendRuntime): boolean {
    return backend.servers.some(isInService);
  }

  // ---- connections ---------------------------------------------------------------------------

  accept(listener: Listener, socket: Socket): void {
    const frontend = listener.frontend;
    if (this.closed || listener.closed) {
      socket.destroy();
      return;
    }
    const clientAddress = unwrapMappedIPv4(socket.remoteAddress ?? '');
    if (frontend.allow !== null && !frontend.allow.allows(clientAddress)) {
      frontend.counters.denied++;
      socket.destroy();
      return;
    }
    if (this.overLimit(frontend)) {
      // Accepted in the same burst as the one that reached the limit: hold it unread until a slot frees.
      socket.on('error', ignore);
      socket.pause();
      listener.held.push(socket);
      this.updateAcceptPauses();
      return;
    }
    this.startSession(frontend, socket, clientAddress);
    if (this.overLimit(frontend)) this.updateAcceptPauses();
  }

  private startSession(frontend: FrontendRuntime, socket: Socket, clientAddress: string): void {
    const now = Date.now();
    const backend = this.backends.get(frontend.config.backend)!;
    const session = new Session(
      String(++this.nextSessionId),
      this,
      frontend,
      backend,
      socket,
      clientAddress,
      now,
    );
    this.sessionMap.set(session.id, session);
    frontend.counters.open(now);
    backend.counters.open(now);
    if (backend.config.balance === 'cmpp-account') {
      session.awaitAccount(Math.min(ACCOUNT_WAIT_MS, this.snapshot.defaults.timeouts.connect));
      return;
    }
    const server = electServer(backend, { clientAddress });
    if (server === undefined) {
      this.noServer(session);
      return;
    }
    this.assign(session, server, now);
    session.connect(server);
  }

  private noServer(session: Session): void {
    session.frontend.counters.noServer++;
    session.backend.counters.noServer++;
    session.destroy('no server');
  }

  private assign(session: Session, server: ServerRuntime, now: number): void {
    server.sessions.add(session);
    server.counters.open(now);
    server.counters.lbtot++;
  }

  private unassign(session: Session, server: ServerRuntime): void {
    if (server.sessions.delete(session)) {
      server.counters.scur--;
      if (server.retired && server.sessions.size === 0) this.retiredServers.delete(server.key);
    }
  }

  connectTimeout(): number {
    return this.snapshot.defaults.timeouts.connect;
  }

  electFirst(session: Session, account: string | undefined): ServerRuntime | undefined {
    const server = electServer(session.backend, { clientAddress: session.clientAddress, account });
    if (server === undefined) {
      session.frontend.counters.noServer++;
      session.backend.counters.noServer++;
      return undefined;
    }
    this.assign(session, server, Date.now());
    return server;
  }

  connectFailed(
    session: Session,
    server: ServerRuntime,
    code: ConnectFailure,
    durationMs: number,
  ): ServerRuntime | undefined {
    server.counters.econ++;
    this.unassign(session, server);
    const timedOut = code === 'ETIMEDOUT';
    this.log('warn', `connect to ${server.key} failed: ${code}`, { session: session.id });
    server.checker?.reportPassiveFailure({
      ok: false,
      status: timedOut ? 'L4TOUT' : 'L4CON',
      durationMs,
      description: timedOut ? 'Connection timeout' : `Connection error: ${code}`,
    });
    if (session.attempts >= 2) return undefined;
    // Retry once: on another usable server when there is one, else on the same one if still usable.
    const next =
      electServer(session.backend, { clientAddress: session.clientAddress }, server) ??
      (isUsable(server) ? server : undefined);
    if (next === undefined) return undefined;
    server.counters.wretr++;
    if (next !== server) server.counters.wredis++;
    this.assign(session, next, Date.now());
    return next;
  }

  proxyHeader(session: Session): Buffer | undefined {
    const mode = session.backend.config.sendProxy;
    if (mode === 'none') return undefined;
    const src = { address: session.clientAddress, port: session.clientPort };
    const dst = {
      address: unwrapMappedIPv4(session.client.localAddress ?? ''),
      port: session.client.localPort ?? 0,
    };
    return mode === 'v2' ? encodeProxyV2(src, dst) : encodeProxyV1(src, dst);
  }

  sessionClosed(session: Session): void {
    if (!this.sessionMap.delete(session.id)) return;
    const { frontend, backend, server } = session;
    frontend.counters.scur--;
    frontend.counters.bin += session.bytesIn;
    frontend.counters.bout += session.bytesOut;
    backend.counters.scur--;
    backend.counters.bin += session.bytesIn;
    backend.counters.bout += session.bytesOut;
    if (server !== null && server.sessions.has(session)) {
      server.counters.bin += session.bytesIn;
      server.counters.bout += session.bytesOut;
      this.unassign(session, server);
    }
    if (this.anyPaused) this.updateAcceptPauses();
  }

  listenerError(listener: Listener, error: NodeJS.ErrnoException): void {
    // EMFILE and friends on accept: libuv already closed the pending connection; count and go on.
    listener.frontend.counters.drops++;
    this.log('error', `frontend ${listener.frontend.name}: ${error.code ?? error.message}`);
  }

  listenerDrop(listener: Listener): void {
    listener.frontend.counters.drops++;
  }

  // ---- maxconn ---------------------------------------------------------------------------------

  private frontendLimit(frontend: FrontendRuntime): number {
    return frontend.config.maxconn ?? this.snapshot.defaults.maxconn;
  }

  private overLimit(frontend: FrontendRuntime): boolean {
    return (
      frontend.counters.scur >= this.frontendLimit(frontend) ||
      this.sessionMap.size >= this.snapshot.defaults.maxconn
    );
  }

  private get anyPaused(): boolean {
    if (this.globallyPaused) return true;
    for (const listener of this.listeners) if (listener.paused || listener.held.length > 0) return true;
    return false;
  }

  /** Pauses listeners at their limit and resumes the others, starting held connections first. */
  private updateAcceptPauses(): void {
    this.globallyPaused = this.sessionMap.size >= this.snapshot.defaults.maxconn;
    for (const listener of this.listeners) {
      const frontend = listener.frontend;
      while (listener.held.length > 0 && !this.overLimit(frontend)) {
        const socket = listener.held.shift()!;
        if (socket.destroyed) continue;
        socket.off('error', ignore);
        this.startSession(frontend, socket, unwrapMappedIPv4(socket.remoteAddress ?? ''));
        socket.resume();
      }
      if (this.overLimit(frontend)) listener.pause();
      else listener.resume();
    }
  }

  // ---- idle sweep and samples ------------------------------------------------------------------

  private sweep(): void {
    const now = Date.now();
    const t = this.snapshot.defaults.timeouts;
    const idle = Math.min(t.client, t.server);
    for (const session of this.sessionMap.values()) {
      const total = session.bytesIn + session.bytesOut;
      if (total !== session.seenBytes) {
        session.seenBytes = total;
        session.lastActiveAt = now;
      } else if (session.state !== 'connecting' && now - session.lastActiveAt >= idle) {
        session.destroy('idle timeout');
      }
    }
  }

  private sample(): StatsSample {
    return takeSample(this, Date.now());
  }

  // ---- admin -----------------------------------------------------------------------------------

  private findServer(
    backendName: string,
    serverName: string,
  ): { backend: BackendRuntime; server: ServerRuntime } {
    const backend = this.backends.get(backendName);
    if (!backend)
      throw new RuntimeError('UNKNOWN_BACKEND', `no backend "${backendName}"`, { backend: backendName });
    const server = backend.byName.get(serverName);
    if (!server) {
      throw new RuntimeError('UNKNOWN_SERVER', `no server "${serverName}" in backend "${backendName}"`, {
        backend: backendName,
        server: serverName,
      });
    }
    return { backend, server };
  }

  async setServerState(
    backendName: string,
    serverName: string,
    state: AdminState,
    options: { shutdownSessions?: boolean } = {},
  ): Promise<ServerStateResult> {
    if (state !== 'ready' && state !== 'drain' && state !== 'maint') {
      throw new RuntimeError('INVALID_SNAPSHOT', `unknown admin state "${String(state)}"`, {
        field: 'state',
      });
    }
    const { backend, server } = this.findServer(backendName, serverName);
    const previous = server.adminState;
    const now = Date.now();
    server.adminState = state;
    if (state === 'maint') server.checker?.pause();
    else server.checker?.resume();
    if (previous !== state) {
      this.log('info', `server ${server.key} ${previous} -> ${state}`);
      this.emit({
        type: 'admin-state',
        backend: backendName,
        server: serverName,
        from: previous,
        to: state,
        at: now,
      });
    }
    backend.setUp(this.backendInService(backend), now);
    let sessionsClosed = 0;
    if (state === 'maint' && options.shutdownSessions)
      sessionsClosed = this.closeServerSessions(server, 'maint');
    if (this.anyPaused) this.updateAcceptPauses();
    return { backend: backendName, server: serverName, previous, state, sessionsClosed };
  }

  async shutdownSessions(backendName: string, serverName?: string): Promise<number> {
    const backend = this.backends.get(backendName);
    if (serverName === undefined) {
      if (!backend)
        throw new RuntimeError('UNKNOWN_BACKEND', `no backend "${backendName}"`, { backend: backendName });
      let count = 0;
      for (const session of [...this.sessionMap.values()]) {
        if (session.backend === backend && session.destroy('shutdown')) count++;
      }
      if (count > 0) {
        this.emit({
          type: 'sessions-closed',
          backend: backendName,
          server: '*',
          count,
          reason: 'shutdown',
          at: Date.now(),
        });
      }
      return count;
    }
    const retired = this.retiredServers.get(`${backendName}/${serverName}`);
    const server = retired ?? this.findServer(backendName, serverName).server;
    return this.closeServerSessions(server, 'shutdown');
  }

  private closeServerSessions(server: ServerRuntime, reason: string): number {
    let count = 0;
    for (const session of [...server.sessions]) if (session.destroy(reason)) count++;
    if (count > 0) {
      this.log('info', `closed ${count} sessions of ${server.key}: ${reason}`);
      this.emit({
        type: 'sessions-closed',
        backend: server.backendName,
        server: server.config.name,
        count,
        reason,
        at: Date.now(),
      });
    }
    return count;
  }

  async killSession(id: string): Promise<boolean> {
    const session = this.sessionMap.get(id);
    return session !== undefined && session.destroy('killed');
  }

  // ---- views -----------------------------------------------------------------------------------

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
    return computeImpact(this.snapshot, candidate, await this.sessions());
  }

  /** The snapshot last applied (a copy). */
  current(): Snapshot {
    return structuredClone(this.snapshot);
  }

  get currentSnapshot(): Snapshot {
    return this.snapshot;
  }

  onEvent(listener: (event: RuntimeEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private emit(event: RuntimeEvent): void {
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (error) {
        this.log('error', 'event listener failed', { error: String(error) });
      }
    }
  }

  async close(): Promise<number> {
    if (this.closed) return 0;
    this.closed = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.sampleTimer);
    for (const listener of this.listeners) listener.close();
    this.listeners.clear();
    for (const backend of this.backends.values())
      for (const server of backend.servers) this.stopChecker(server);
    let count = 0;
    for (const session of [...this.sessionMap.values()]) if (session.destroy('runtime closed')) count++;
    await this.applying;
    return count;
  }
}

function ignore(): void {}

function bindKey(listener: Listener): string {
  return `${listener.address}:${listener.port}`;
}

function sameBind(listener: Listener, bind: { address: string; port: number }): boolean {
  return listener.address === bind.address && listener.port === bind.port;
}
