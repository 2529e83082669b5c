// ProxyRuntimeApi served by worker processes (docs/workers.md). The main process keeps the API, the
// database and the health checks (one ProxyRuntime without frontends: its checkers, names and admin
// states); each worker runs a ProxyRuntime whose listeners share the cluster primary's sockets.
// Plain data crosses the IPC channel; every Nest service keeps talking to ProxyRuntimeApi.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Snapshot } from '../schema/snapshot.js';
import { RuntimeError, type RuntimeErrorCode } from '../runtime/errors.js';
import { computeImpact } from '../runtime/impact.js';
import { LoginAdmission } from '../runtime/login-admission.js';
import { RUNTIME_NODE_FLAGS } from '../runtime/node-flags.js';
import { ProxyRuntime, type HealthPush } from '../runtime/runtime.js';
import type { Log } from '../runtime/state.js';
import type {
  AdminState,
  AdminStateEntry,
  ApplyOptions,
  ApplyResult,
  FrontendStats,
  ImpactReport,
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
  WorkerStats,
} from '../runtime/types.js';
import { mergeApplyResults, mergeHistory, mergeStats } from './merge.js';
import {
  REPORT_INTERVAL_MS,
  type FromWorker,
  type ToWorker,
  type WireError,
  type WorkerMethod,
} from './protocol.js';
import { planShares, sharesOf, type ShareBook } from './shares.js';
import { healthSnapshot, workerSnapshot } from './snapshot-split.js';
import { defaultWorkerCount } from './worker-count.js';

export interface WorkerPoolOptions {
  /** How many workers, or 'auto': cores, raised to what defaults.maxconn needs (worker-count.ts). */
  workers: number | 'auto';
  nodeInternals?: boolean;
  log?: Log;
  /** Bounds of one call to a worker (apply waits for DNS, so it gets longer). */
  callTimeoutMs?: number;
  applyTimeoutMs?: number;
}

/** How long an apply waits for worker processes that are still starting (boot) before going on without them. */
const START_WAIT_MS = 15_000;

/** A spare that exits younger than this is replaced only after this long (no fork loop on a broken start). */
const SPARE_MIN_LIFE_MS = 1000;

/** A call that could not finish because the worker died: its replacement starts from the current snapshot. */
class WorkerGone extends Error {}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

class Slot {
  worker: Worker | undefined;
  pid = 0;
  state: WorkerStats['state'] = 'starting';
  restarts = 0;
  lostSessions = 0;
  sessions = 0;
  rssBytes = 0;
  acceptErrors = 0;
  servers: Record<string, number> = {};
  /** When its current process was forked and when it said ready (for the start log). */
  forkedAt = 0;
  readyAt = 0;
  /** When the slot got its current process. */
  since = 0;
  readonly pending = new Map<number, Pending>();
  constructor(readonly id: number) {}

  get index(): number {
    return this.id - 1;
  }

  /** Prefix of this process's session ids: cluster worker ids are never reused, so ids stay unique. */
  get prefix(): string {
    return `w${this.worker?.id ?? 0}:`;
  }
}

/** The worker script beside this file; from TypeScript sources (tests) it runs under tsx. */
/** Workers run with the data plane's Node flags (node-flags.ts) whatever the main process was started with. */
function workerEntry(): { exec: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const inherited = process.execArgv.filter((arg) => !RUNTIME_NODE_FLAGS.includes(arg));
  if (here.endsWith('.ts'))
    return {
      exec: here.replace(/pool\.ts$/, 'worker-main.ts'),
      execArgv: [...RUNTIME_NODE_FLAGS, '--import', 'tsx'],
    };
  return {
    exec: here.replace(/pool\.js$/, 'worker-main.js'),
    execArgv: [...RUNTIME_NODE_FLAGS, ...inherited],
  };
}

export class WorkerPool implements ProxyRuntimeApi {
  private readonly slots: Slot[] = [];
  /** Whose each process is: a slot's, or the spare's. */
  private readonly owners = new Map<Worker, Slot | 'spare'>();
  private spare: { worker: Worker; ready: boolean; forkedAt: number } | undefined;
  private readonly health: ProxyRuntime;
  private readonly log: Log;
  private current: Snapshot | undefined;
  /** Each worker's share of every accept limit of `current` (shares.ts); moved by moveShare. */
  private shares: Map<string, number[]> = new Map();
  private queue: Promise<unknown> = Promise.resolve();
  private nextCallId = 0;
  private closing = false;
  private readonly startedAt = Date.now();
  /** Per-account counts and login buckets of the whole appliance: workers ask before admitting a CMPP login. */
  private readonly admission = new LoginAdmission();
  private readonly eventListeners = new Set<(event: RuntimeEvent) => void>();
  private readonly endListeners = new Set<(record: SessionEndRecord) => void>();
  private readonly remoteTimer: NodeJS.Timeout;
  private readonly callTimeoutMs: number;
  private readonly entry: { exec: string; execArgv: string[] };
  private readonly applyTimeoutMs: number;

  constructor(private readonly options: WorkerPoolOptions) {
    this.log = options.log ?? (() => {});
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.applyTimeoutMs = options.applyTimeoutMs ?? 60_000;
    if (!cluster.isPrimary) throw new Error('a WorkerPool runs in the primary process only');
    // SCHED_NONE: workers accept from one shared socket, the kernel spreads the accepts (docs/workers.md).
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    this.entry = workerEntry();
    this.health = new ProxyRuntime({ nodeInternals: options.nodeInternals, log: this.log, checks: 'local' });
    this.health.onEvent((event) => this.onHealthEvent(event));
    const initial =
      options.workers === 'auto'
        ? defaultWorkerCount(1)
        : { workers: Math.max(1, options.workers), why: 'TETHER_WORKERS' };
    if (options.workers === 'auto')
      initial.why = `${initial.workers} cores; raised later if defaults.maxconn needs more`;
    this.log('info', `workers: ${initial.workers} (${initial.why})`);
    this.grow(initial.workers);
    this.remoteTimer = setInterval(() => this.pushRemoteSessions(), REPORT_INTERVAL_MS);
    this.remoteTimer.unref();
  }

  // ---- processes ----------------------------------------------------------------------------

  private grow(count: number): void {
    while (this.slots.length < count) {
      const slot = new Slot(this.slots.length + 1);
      this.slots.push(slot);
      this.spawn(slot);
    }
    this.spare ??= this.forkSpare();
  }

  /** A new process for the slot: the warm spare when it is ready (so a replacement is only an apply away), else a fresh fork. */
  private spawn(slot: Slot): void {
    slot.state = 'starting';
    slot.sessions = 0;
    slot.servers = {};
    const spare = this.spare;
    if (spare !== undefined && spare.ready) {
      this.spare = this.forkSpare();
      this.adopt(slot, spare.worker, spare.forkedAt);
      slot.readyAt = Date.now();
      this.startInitialise(slot, spare.worker);
      return;
    }
    slot.readyAt = 0;
    this.adopt(slot, this.forkProcess(), Date.now());
  }

  private adopt(slot: Slot, worker: Worker, forkedAt: number): void {
    slot.worker = worker;
    slot.pid = worker.process.pid ?? 0;
    slot.forkedAt = forkedAt;
    slot.since = Date.now();
    this.owners.set(worker, slot);
  }

  /** An idle worker process, started and self-tested, waiting to replace one that dies. */
  private forkSpare(): { worker: Worker; ready: boolean; forkedAt: number } | undefined {
    if (this.closing) return undefined;
    const worker = this.forkProcess();
    this.owners.set(worker, 'spare');
    return { worker, ready: false, forkedAt: Date.now() };
  }

  private forkProcess(): Worker {
    // cluster's settings are process-wide: set ours right before each fork (another pool may have set its own).
    cluster.setupPrimary({ ...this.entry, silent: false });
    const worker = cluster.fork();
    worker.on('message', (message: FromWorker) => this.route(worker, message));
    worker.on('error', (error) => this.log('warn', `worker pid ${worker.process.pid}: ${error.message}`));
    worker.once('exit', (code, signal) => this.exited(worker, code, signal));
    return worker;
  }

  private route(worker: Worker, message: FromWorker): void {
    const owner = this.owners.get(worker);
    if (message.t === 'log') {
      this.log(message.level, message.message, message.data);
      return;
    }
    if (owner === 'spare') {
      if (message.t === 'ready' && this.spare?.worker === worker) this.spare.ready = true;
    } else if (owner !== undefined) this.onMessage(owner, worker, message);
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    const owner = this.owners.get(worker);
    this.owners.delete(worker);
    if (owner !== 'spare') {
      if (owner !== undefined) this.onExit(owner, worker, code, signal);
      return;
    }
    if (this.spare?.worker !== worker || this.closing) return;
    // A spare that dies young is replaced only after a while: a broken start must not become a fork loop.
    const young = Date.now() - this.spare.forkedAt < SPARE_MIN_LIFE_MS;
    this.spare = undefined;
    this.log('warn', `spare worker (pid ${worker.process.pid}) exited (${signal ?? `exit ${code}`})`);
    setTimeout(() => (this.spare ??= this.forkSpare()), young ? SPARE_MIN_LIFE_MS : 0).unref();
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    // Its sessions are gone, and so are the account slots they held.
    const freed = this.admission.releaseHolder(slot.id);
    if (freed > 0) this.log('info', `worker ${slot.id}: ${freed} CMPP account slot(s) freed`);
    for (const [id, pending] of slot.pending) {
      clearTimeout(pending.timer);
      pending.reject(new WorkerGone(`worker ${slot.id} exited`));
      slot.pending.delete(id);
    }
    if (this.closing) {
      slot.state = 'stopped';
      return;
    }
    // Its connections died with it: counted from its last report (at most REPORT_INTERVAL_MS old).
    const lost = slot.sessions;
    slot.lostSessions += lost;
    slot.restarts++;
    this.log(
      'error',
      `worker ${slot.id} (pid ${slot.pid}) died (${signal ?? `exit ${code}`}); ${lost} session(s) lost; replacing it`,
    );
    this.emit({
      type: 'worker-exit',
      worker: slot.id,
      pid: slot.pid,
      code,
      signal,
      lostSessions: lost,
      at: Date.now(),
    });
    // A process that dies young (a crash at start) is replaced after a pause: no fork loop.
    if (Date.now() - slot.since < SPARE_MIN_LIFE_MS) {
      setTimeout(() => {
        if (!this.closing && slot.worker === worker) this.spawn(slot);
      }, SPARE_MIN_LIFE_MS).unref();
    } else this.spawn(slot);
  }

  private startInitialise(slot: Slot, worker: Worker): void {
    // Brought up to date after any apply in flight: same queue.
    void this.exclusive(() => this.initialise(slot, worker)).catch((error: unknown) =>
      this.log('error', `worker ${slot.id}: start failed: ${String(error)}`),
    );
  }

  private onMessage(slot: Slot, worker: Worker, message: FromWorker): void {
    if (slot.worker !== worker) return;
    switch (message.t) {
      case 'ready':
        slot.readyAt = Date.now();
        this.startInitialise(slot, worker);
        break;
      case 'reply': {
        const pending = slot.pending.get(message.id);
        if (!pending) return;
        slot.pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.ok) pending.resolve(message.value);
        else pending.reject(fromWire(message.error));
        break;
      }
      case 'event':
        this.onWorkerEvent(slot, message.event);
        break;
      case 'session-ends':
        for (const record of message.records) {
          record.id = slot.prefix + record.id;
          for (const listener of this.endListeners) {
            try {
              listener(record);
            } catch (error) {
              this.log('error', 'session-end listener failed', { error: String(error) });
            }
          }
        }
        break;
      case 'admit':
        this.send(slot, {
          t: 'admitted',
          id: message.id,
          verdict: this.admission.admit(slot.id, message.request, performance.now()),
        });
        break;
      case 'release':
        this.admission.release(slot.id, message.backend, message.account);
        break;
      case 'share-low':
        // In the queue of applies and starts: the book and every worker's share change one step at a time.
        void this.exclusive(() => this.moveShare(slot, message.free)).catch((error: unknown) =>
          this.log('error', `moving limit share to worker ${slot.id} failed: ${String(error)}`),
        );
        break;
      case 'report':
        slot.sessions = message.sessions;
        slot.rssBytes = message.rssBytes;
        slot.acceptErrors = message.acceptErrors;
        slot.servers = message.servers;
        break;
    }
  }

  /** A new process for a slot: the current snapshot (its share), admin states, health, subscriptions. */
  private async initialise(slot: Slot, worker: Worker): Promise<void> {
    // Already brought up by an apply that waited for it (boot).
    if (slot.worker !== worker || this.closing || slot.state === 'running') return;
    if (this.current !== undefined) {
      await this.call(
        slot,
        'apply',
        this.applyArgs(this.current, slot, this.shares, {
          tolerateBindErrors: true,
          tolerateUnresolvedNames: true,
          adminStates: await this.adminStates(),
        }),
      );
    }
    await this.markRunning(slot);
  }

  /** The rest of a worker's start once it runs the snapshot: health, subscriptions, state. */
  private async markRunning(slot: Slot): Promise<void> {
    this.send(slot, { t: 'health', entries: await this.healthEntries() });
    if (this.endListeners.size > 0) this.send(slot, { t: 'session-ends', on: true });
    slot.state = 'running';
    const now = Date.now();
    this.log(
      'info',
      `worker ${slot.id} running (pid ${slot.pid}; ready ${slot.readyAt - slot.forkedAt} ms after fork, running ${now - slot.forkedAt} ms)`,
    );
  }

  /** A worker's apply: the config (servers' maxconn split evenly) and its share of every accept limit. */
  private applyArgs(snapshot: Snapshot, slot: Slot, book: ShareBook, options: ApplyOptions): unknown[] {
    return [workerSnapshot(snapshot, slot.index, this.slots.length), options, sharesOf(book, slot.index)];
  }

  /**
   * A worker ran short of a limit's share (`free`: its free room per limit key): each other worker gives
   * its free room above the short one's, divided by the number of workers, and only then does the short
   * one get the sum. Lowering first keeps the shares' sum at the limit at every moment (the appliance never
   * admits more than its maxconn); a worker gives only room it doesn't use or hold.
   */
  private async moveShare(to: Slot, free: Record<string, number>): Promise<void> {
    const donors = this.running().filter((s) => s !== to);
    const grants: Record<string, number> = {};
    for (const [key, theirFree] of Object.entries(free)) {
      const book = this.shares.get(key);
      grants[key] = 0;
      if (book === undefined || donors.length === 0 || this.closing) continue;
      const given = await Promise.all(
        donors.map((donor) =>
          this.call<number>(donor, 'releaseShare', [key, theirFree, this.slots.length]).catch(
            (error: unknown) => {
              if (error instanceof WorkerGone) return 0; // its replacement starts with the book's share
              throw error;
            },
          ),
        ),
      );
      donors.forEach((donor, i) => (book[donor.index] -= given[i]));
      const total = given.reduce((a, b) => a + b, 0);
      book[to.index] += total;
      grants[key] = total;
    }
    // Sent to the slot's process whichever it is now: one that replaced the asker and started before this
    // move runs the book's old figure plus this grant; one that starts after gets the book's new figure
    // in its apply, which comes after this message and sets the shares outright.
    this.send(to, { t: 'share-grant', grants });
  }

  private send(slot: Slot, message: ToWorker): void {
    const worker = slot.worker;
    if (worker && worker.isConnected()) worker.send(message);
  }

  private call<T>(slot: Slot, method: WorkerMethod, args: unknown[]): Promise<T> {
    const worker = slot.worker;
    if (!worker || !worker.isConnected()) return Promise.reject(new WorkerGone(`worker ${slot.id} is gone`));
    const id = ++this.nextCallId;
    const timeoutMs = method === 'apply' || method === 'check' ? this.applyTimeoutMs : this.callTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        slot.pending.delete(id);
        // A worker that doesn't answer is hung (a busy loop, a stopped process): without this every later
        // call would wait for it and fail. Killed, it is replaced like one that died; callers leave it out.
        this.log(
          'error',
          `worker ${slot.id} (pid ${slot.pid}) did not answer ${method} within ${timeoutMs} ms; killing it`,
        );
        worker.process.kill('SIGKILL');
        reject(new WorkerGone(`worker ${slot.id} did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      slot.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      worker.send({ t: 'call', id, method, args } satisfies ToWorker);
    });
  }

  private running(): Slot[] {
    return this.slots.filter((s) => s.state === 'running');
  }

  /** Calls every running worker; workers that died meanwhile are left out of the answer. */
  private async fanOut<T>(
    method: WorkerMethod,
    args: (slot: Slot) => unknown[],
  ): Promise<Array<{ slot: Slot; value: T }>> {
    const slots = this.running();
    const settled = await Promise.allSettled(slots.map((slot) => this.call<T>(slot, method, args(slot))));
    const out: Array<{ slot: Slot; value: T }> = [];
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') out.push({ slot: slots[i], value: result.value });
      else if (!(result.reason instanceof WorkerGone)) throw result.reason;
    });
    return out;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => {});
    return run;
  }

  // ---- health, once, in the main process -------------------------------------------------------

  private onHealthEvent(event: RuntimeEvent): void {
    if (event.type === 'health') {
      const entry: HealthPush = {
        backend: event.backend,
        server: event.server,
        health: event.to,
        checkStatus: event.checkStatus,
        description: '',
      };
      for (const slot of this.slots) this.send(slot, { t: 'health', entries: [entry] });
    }
    // Health and admin-state changes are reported once, from here; the workers' copies are dropped.
    if (event.type === 'health' || event.type === 'admin-state') this.emit(event);
  }

  private onWorkerEvent(slot: Slot, event: RuntimeEvent): void {
    if (event.type === 'health' || event.type === 'admin-state') return;
    // Every worker listens on the same sockets: report a frontend's bind news once, from the first running slot.
    if (event.type === 'frontend-error' || event.type === 'frontend-open') {
      if (this.running()[0] !== slot) return;
    }
    this.emit(event);
  }

  private async healthEntries(): Promise<HealthPush[]> {
    const stats = await this.health.stats();
    return stats.backends.flatMap((b) =>
      b.servers.map((s) => ({
        backend: b.name,
        server: s.name,
        health: s.health,
        checkStatus: s.check_status,
        description: s.check_desc,
      })),
    );
  }

  private async adminStates(): Promise<AdminStateEntry[]> {
    // Before every apply (to put back on failure): the servers' states only, not the counters' per-account rows.
    const states = await this.health.serverStates();
    return states.map((s) => ({ backend: s.backend, server: s.server, state: s.adminState }));
  }

  /** leastconn: each worker learns the sessions the others hold per server (at most one report old). */
  private pushRemoteSessions(): void {
    const running = this.running();
    const total: Record<string, number> = {};
    for (const slot of running)
      for (const [key, n] of Object.entries(slot.servers)) total[key] = (total[key] ?? 0) + n;
    for (const slot of running) {
      const others: Record<string, number> = {};
      for (const [key, n] of Object.entries(total)) {
        const count = n - (slot.servers[key] ?? 0);
        if (count > 0) others[key] = count;
      }
      this.send(slot, { t: 'remote-sessions', counts: others });
    }
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

  // ---- ProxyRuntimeApi -------------------------------------------------------------------------

  apply(snapshot: Snapshot, options: ApplyOptions = {}): Promise<ApplyResult> {
    return this.exclusive(async () => {
      if (this.closing) throw new RuntimeError('CLOSED', 'runtime is closed');
      this.raiseWorkerCount(snapshot);
      // At boot (and after a raise) processes are still starting: the change is answered when they run it too.
      await this.untilStarted(START_WAIT_MS);
      const previous = this.current;
      const previousStates = await this.adminStates();
      const slots = this.slots.filter(
        (s) => s.state === 'running' || (s.state === 'starting' && s.readyAt > 0),
      );
      const starting = slots.filter((s) => s.state === 'starting');
      const workers = this.slots.length;
      const book = planShares(snapshot, workers, this.shares);
      // The workers' messages go out first: they apply while this process applies its health runtime (which
      // runs synchronously up to its first await), not after it.
      const applied = slots.map((slot) =>
        this.call<ApplyResult>(slot, 'apply', this.applyArgs(snapshot, slot, book, options)),
      );
      const settled = await Promise.allSettled([
        this.health.apply(healthSnapshot(snapshot), options),
        ...applied,
      ]);
      const failure = settled.find((r) => r.status === 'rejected' && !(r.reason instanceof WorkerGone));
      if (failure !== undefined) {
        // All or nothing: put back those that applied, with the admin states they had.
        const back: ApplyOptions = {
          tolerateBindErrors: true,
          tolerateUnresolvedNames: true,
          adminStates: previousStates,
        };
        const base = previous ?? { ...snapshot, frontends: [], backends: [] };
        const undo: Array<Promise<unknown>> = [];
        if (settled[0].status === 'fulfilled') undo.push(this.health.apply(healthSnapshot(base), back));
        slots.forEach((slot, i) => {
          if (settled[i + 1].status === 'fulfilled') {
            undo.push(this.call(slot, 'apply', this.applyArgs(base, slot, this.shares, back)));
          }
        });
        const undone = await Promise.allSettled(undo);
        for (const r of undone) {
          if (r.status === 'rejected') this.log('error', `rollback of a worker failed: ${String(r.reason)}`);
        }
        throw (failure as PromiseRejectedResult).reason;
      }
      this.current = structuredClone(snapshot);
      this.shares = book;
      for (const slot of starting) if (slot.worker?.isConnected()) await this.markRunning(slot);
      const results = settled
        .slice(1)
        .filter((r): r is PromiseFulfilledResult<ApplyResult> => r.status === 'fulfilled')
        .map((r) => r.value);
      return mergeApplyResults(results);
    });
  }

  /** Waits (bounded) until every slot's process has started and said ready. */
  private async untilStarted(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.slots.some((s) => s.state === 'starting' && s.readyAt === 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** 'auto': more workers when defaults.maxconn needs more descriptors than the current ones have. */
  private raiseWorkerCount(snapshot: Snapshot): void {
    if (this.options.workers !== 'auto') return;
    const wanted = defaultWorkerCount(snapshot.defaults.maxconn);
    if (wanted.workers <= this.slots.length) return;
    this.log('info', `workers: ${wanted.workers} (${wanted.why})`);
    this.grow(wanted.workers);
  }

  async setServerState(
    backend: string,
    server: string,
    state: AdminState,
    options: { shutdownSessions?: boolean } = {},
  ): Promise<ServerStateResult> {
    // The health runtime checks the names and pauses the checker; then every worker follows.
    const result = await this.health.setServerState(backend, server, state, options);
    const answers = await this.fanOut<ServerStateResult>('setServerState', () => [
      backend,
      server,
      state,
      options,
    ]);
    return { ...result, sessionsClosed: answers.reduce((n, a) => n + a.value.sessionsClosed, 0) };
  }

  async retryFrontend(frontend: string): Promise<FrontendStats> {
    const settled = await Promise.allSettled(
      this.running().map((slot) => this.call<FrontendStats>(slot, 'retryFrontend', [frontend])),
    );
    const ok = settled.find((r) => r.status === 'fulfilled');
    if (ok === undefined) {
      const failed = settled.find((r) => r.status === 'rejected' && !(r.reason instanceof WorkerGone));
      if (failed) throw (failed as PromiseRejectedResult).reason;
      throw new RuntimeError('UNKNOWN_FRONTEND', `no frontend "${frontend}"`, { frontend });
    }
    const stats = await this.stats({ cmppAccounts: false });
    return (
      stats.frontends.find((f) => f.name === frontend) ?? (ok as PromiseFulfilledResult<FrontendStats>).value
    );
  }

  async shutdownSessions(backend: string, server?: string, options: ShutdownOptions = {}): Promise<number> {
    await this.health.shutdownSessions(backend, server); // names checked once, here
    const answers = await this.fanOut<number>('shutdownSessions', () => [backend, server, options]);
    return answers.reduce((n, a) => n + a.value, 0);
  }

  async killSession(id: string): Promise<boolean> {
    const slot = this.running().find((s) => id.startsWith(s.prefix));
    if (slot === undefined) return false;
    try {
      return await this.call<boolean>(slot, 'killSession', [id.slice(slot.prefix.length)]);
    } catch (error) {
      if (error instanceof WorkerGone) return false;
      throw error;
    }
  }

  async stats(options: StatsOptions = {}): Promise<RuntimeStats> {
    const [health, answers] = await Promise.all([
      this.health.stats(),
      this.fanOut<RuntimeStats>('stats', () => [options]),
    ]);
    return mergeStats(
      health,
      answers.map((a) => a.value),
      this.workerStats(),
      Math.round((Date.now() - this.startedAt) / 1000),
    );
  }

  /** From the health runtime, as stats() merges them: admin states, health and status are the main process's own. */
  serverStates(): Promise<ServerState[]> {
    return this.health.serverStates();
  }

  /** The warm spare: its pid and whether it has started (diagnostics; tests wait for it). */
  spareState(): { pid: number; ready: boolean } | undefined {
    const spare = this.spare;
    return spare && { pid: spare.worker.process.pid ?? 0, ready: spare.ready };
  }

  /** Per-slot figures (also in stats().workers). */
  workerStats(): WorkerStats[] {
    return this.slots.map((s) => ({
      id: s.id,
      pid: s.pid,
      sessions: s.sessions,
      rssBytes: s.rssBytes,
      restarts: s.restarts,
      lostSessions: s.lostSessions,
      state: s.state,
      acceptErrors: s.acceptErrors,
    }));
  }

  async history(): Promise<StatsSample[]> {
    const answers = await this.fanOut<StatsSample[]>('history', () => []);
    return mergeHistory(answers.map((a) => a.value));
  }

  async sessions(): Promise<SessionInfo[]> {
    const answers = await this.fanOut<SessionInfo[]>('sessions', () => []);
    const out: SessionInfo[] = [];
    for (const { slot, value } of answers) {
      for (const session of value) {
        session.id = slot.prefix + session.id;
        out.push(session);
      }
    }
    return out;
  }

  async check(candidate: Snapshot): Promise<void> {
    const slot = this.running()[0];
    if (slot === undefined) return this.health.check(healthSnapshot(candidate));
    try {
      await this.call(slot, 'check', [workerSnapshot(candidate, slot.index, this.slots.length)]);
    } catch (error) {
      if (!(error instanceof WorkerGone)) throw error;
      await this.health.check(healthSnapshot(candidate));
    }
  }

  async impact(candidate: Snapshot): Promise<ImpactReport> {
    const base = this.current ?? { ...candidate, frontends: [], backends: [] };
    return computeImpact(base, candidate, await this.sessions());
  }

  onEvent(listener: (event: RuntimeEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onSessionEnd(listener: (record: SessionEndRecord) => void): () => void {
    this.endListeners.add(listener);
    if (this.endListeners.size === 1)
      for (const slot of this.slots) this.send(slot, { t: 'session-ends', on: true });
    return () => {
      if (this.endListeners.delete(listener) && this.endListeners.size === 0) {
        for (const slot of this.slots) this.send(slot, { t: 'session-ends', on: false });
      }
    };
  }

  async listenerPaths(): Promise<ListenerPathsReport> {
    const answers = await this.fanOut<ListenerPathsReport>('listenerPaths', () => []);
    if (answers.length === 0) return this.health.listenerPaths();
    return { ...answers[0].value, listeners: answers.flatMap((a) => a.value.listeners) };
  }

  /** Test and diagnostics hook: one worker's own answer (e.g. its stats), by slot id. */
  callWorker<T>(slotId: number, method: WorkerMethod, args: unknown[] = []): Promise<T> {
    const slot = this.slots[slotId - 1];
    if (!slot) return Promise.reject(new Error(`no worker ${slotId}`));
    return this.call<T>(slot, method, args);
  }

  async close(): Promise<number> {
    if (this.closing) return 0;
    this.closing = true;
    clearInterval(this.remoteTimer);
    await this.queue;
    const answers = await Promise.allSettled(
      this.running().map((slot) => this.call<number>(slot, 'close', [])),
    );
    const closed = answers.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value : 0), 0);
    await Promise.all([
      ...this.slots.map((slot) => stopProcess(slot.worker)),
      stopProcess(this.spare?.worker),
    ]);
    await this.health.close();
    return closed;
  }
}

/** Disconnects a worker (it exits when its channel closes) and kills it if it hasn't within 2 s. */
function stopProcess(worker: Worker | undefined): Promise<void> {
  if (!worker || worker.isDead()) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), 2000);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (worker.isConnected()) worker.disconnect();
    else worker.process.kill('SIGKILL');
  });
}

function fromWire(error: WireError): Error {
  if (error.name === 'RuntimeError' && error.code) {
    return new RuntimeError(
      error.code as RuntimeErrorCode,
      error.message,
      error.subject ?? {},
      error.cause_code,
    );
  }
  return new Error(error.message);
}
