import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/actor.js';
import { ConfigService } from '../config/config.service.js';
import { EventLogService } from '../events/event-log.service.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { ProxyRuntimeApi, RuntimeStats } from '../runtime/types.js';
import { describeDrain, drainProgress, isOperation, type DrainRecord } from './drain-operation.js';

/** How often a drain operation looks whether its server has a session left (one stats call for all of them). */
export const DRAIN_POLL_MS = 500;

/** Who acts when a drain operation acts by itself: audited as user `system` from `drain`. */
export const DRAIN_ACTOR: Actor = { username: 'system', role: 'admin' };
export const DRAIN_SOURCE = 'drain';

/** Moves a finished drain operation's server to its `then` (ServerStatesService: runtime, store, audit). */
export type DrainFinisher = (record: DrainRecord, isCurrent: () => boolean) => Promise<void>;

/**
 * The drains in progress, by server: when each started and, for a drain operation (a deadline and/or a `then`), the
 * timer that closes the sessions left at the deadline and the poll that moves the server to `then` once none is left
 * (docs/cmpp-session-control.md, "Drains"). Session counts come from the runtime's stats, which WorkerPool merges
 * across workers, and the deadline's shutdownSessions reaches every worker: one operation for the appliance.
 * At most one record per server in drain; a new state of the server replaces its record (ServerStatesService).
 */
@Injectable()
export class DrainsService implements OnModuleDestroy {
  private readonly logger = new Logger('Drains');
  private readonly records = new Map<string, DrainRecord>();
  private readonly deadlines = new Map<DrainRecord, NodeJS.Timeout>();
  private readonly finishing = new Set<DrainRecord>();
  private poll?: NodeJS.Timeout;
  private polling = false;
  private finisher?: DrainFinisher;
  private closed = false;

  constructor(
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly config: ConfigService,
    private readonly audit: AuditService,
    private readonly events: EventLogService,
  ) {}

  useFinisher(finisher: DrainFinisher): void {
    this.finisher = finisher;
  }

  get(backend: string, server: string): DrainRecord | undefined {
    return this.records.get(keyOf(backend, server));
  }

  /** The server's drain from now on (null: it is not draining). Cancels what the record it replaces had planned. */
  set(backend: string, server: string, record: DrainRecord | null): void {
    const key = keyOf(backend, server);
    const previous = this.records.get(key);
    if (previous !== undefined) {
      clearTimeout(this.deadlines.get(previous));
      this.deadlines.delete(previous);
      this.records.delete(key);
    }
    if (record === null || this.closed) return;
    this.records.set(key, record);
    if (record.deadlineAt !== null && record.closedAt === null) {
      const timer = setTimeout(
        () => void this.closeAtDeadline(record),
        Math.max(0, record.deadlineAt - Date.now()),
      );
      timer.unref();
      this.deadlines.set(record, timer);
    }
    if (isOperation(record)) this.startPolling();
  }

  /** Adds each draining server's progress to the stats (GET /stats, the console's stream, the runtime socket). */
  withProgress(stats: RuntimeStats): RuntimeStats {
    if (this.records.size === 0) return stats;
    for (const backend of stats.backends) {
      for (const server of backend.servers) {
        if (server.adminState !== 'drain') continue;
        const record = this.records.get(keyOf(backend.name, server.name));
        if (record !== undefined) server.drain = drainProgress(record, server, stats.at);
      }
    }
    return stats;
  }

  onModuleDestroy(): void {
    this.closed = true;
    clearInterval(this.poll);
    this.poll = undefined;
    for (const timer of this.deadlines.values()) clearTimeout(timer);
    this.deadlines.clear();
  }

  private isCurrent(record: DrainRecord): boolean {
    return this.records.get(keyOf(record.backend, record.server)) === record;
  }

  private startPolling(): void {
    if (this.poll !== undefined) return;
    this.poll = setInterval(() => void this.check(), DRAIN_POLL_MS);
    this.poll.unref();
  }

  /** One look at every drain operation: those whose server has no session left end. */
  private async check(): Promise<void> {
    if (this.polling) return; // a slow stats call skips a tick instead of piling calls up
    const operations = [...this.records.values()].filter(isOperation);
    if (operations.length === 0) {
      clearInterval(this.poll);
      this.poll = undefined;
      return;
    }
    this.polling = true;
    try {
      const stats = await this.runtime.stats({ cmppAccounts: false });
      const servers = new Map(
        stats.backends.flatMap((b) => b.servers.map((s) => [keyOf(b.name, s.name), s])),
      );
      for (const record of operations) {
        const server = servers.get(keyOf(record.backend, record.server));
        // Out of the config: it waits (with its stored state) for the server to come back.
        if (server === undefined || server.adminState !== 'drain' || server.scur > 0) continue;
        if (this.isCurrent(record)) void this.finish(record);
      }
    } catch (error) {
      if (!this.closed) this.logger.warn(`drain check failed: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private async finish(record: DrainRecord): Promise<void> {
    if (this.finishing.has(record) || this.finisher === undefined) return;
    this.finishing.add(record);
    try {
      await this.finisher(record, () => this.isCurrent(record) && !this.closed);
      if (this.isCurrent(record)) this.set(record.backend, record.server, null);
    } catch (error) {
      // Shutting down: the operation is stored and goes on after the next start.
      if (this.closed) return;
      this.logger.error(
        `drain of ${record.backend}/${record.server} could not end: ${(error as Error).message}`,
      );
    } finally {
      this.finishing.delete(record);
    }
  }

  /** The deadline: the sessions left are closed, gracefully where the frontend inspects CMPP; the poll ends it. */
  private async closeAtDeadline(record: DrainRecord): Promise<void> {
    this.deadlines.delete(record);
    const target = `${record.backend}/${record.server}`;
    try {
      await this.config.serialize(async () => {
        if (!this.isCurrent(record) || this.closed) return;
        const closed = await this.runtime.shutdownSessions(record.backend, record.server, { graceful: true });
        record.closedAt = Date.now();
        record.closed = closed;
        const text = `${target}: drain deadline, ${closed} session(s) left closed`;
        this.logger.log(text);
        await this.audit.record({
          actor: DRAIN_ACTOR,
          sourceAddress: DRAIN_SOURCE,
          action: 'server.shutdown-sessions',
          target,
          result: 'ok',
          detail: `${describeDrain(record)}: deadline reached, ${closed} session(s) closed (graceful)`,
        });
        this.events.record({
          type: 'drain',
          backend: record.backend,
          server: record.server,
          text,
          detail: { step: 'deadline', ...publicFields(record) },
        });
      });
    } catch (error) {
      this.logger.error(`drain deadline of ${target}: ${(error as Error).message}`);
    }
    if (this.isCurrent(record)) this.startPolling();
  }
}

export function keyOf(backend: string, server: string): string {
  return `${backend}/${server}`;
}

/** What the event log keeps of a record. */
export function publicFields(record: DrainRecord): Record<string, unknown> {
  return {
    backend: record.backend,
    server: record.server,
    startedAt: record.startedAt,
    deadlineAt: record.deadlineAt,
    then: record.then,
    closedAt: record.closedAt,
    closed: record.closed,
  };
}
