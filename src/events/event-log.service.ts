import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThanOrEqual, type FindOptionsWhere, type Repository } from 'typeorm';
import { RetentionService } from '../retention/retention.service.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { ProxyRuntimeApi, RuntimeEvent } from '../runtime/types.js';
import { describeEvent, subjectOf } from './describe-event.js';
import { EventEntity, type EventType } from './event.entity.js';
import { EVENTS_LIMIT_DEFAULT, type EventDto, type EventsQueryDto } from './events.dto.js';

/** Events are written in batches this often: a flapping farm is one transaction a tick, not one per event. */
const FLUSH_MS = 500;
/** Events waiting for their batch at most; past it new ones are counted and dropped (and the count logged). */
export const PENDING_MAX = 10_000;
/** After this many rows written the row cap is enforced at once, not only at the hourly prune. */
const CAP_CHECK_EVERY = 1000;

type Row = Omit<EventEntity, 'id'>;

/**
 * The stored event log: every runtime event (health, admin state, drain, bind) and each start of the appliance,
 * newest first through GET /events. Bounded by the retention (days and a row cap, src/retention/).
 */
@Injectable()
export class EventLogService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('EventLog');
  private pending: Row[] = [];
  private dropped = 0;
  private writtenSinceCapCheck = 0;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private unsubscribe?: () => void;

  constructor(
    @InjectRepository(EventEntity) private readonly events: Repository<EventEntity>,
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly retention: RetentionService,
  ) {}

  onModuleInit(): void {
    // Subscribed before the first apply, so the boot's own bind and health events are kept too.
    this.unsubscribe = this.runtime.onEvent((event) => this.add(toRow(event)));
  }

  onApplicationBootstrap(): void {
    const at = Date.now();
    this.add({
      at,
      type: 'appliance-start',
      frontend: null,
      backend: null,
      server: null,
      text: `appliance started (pid ${process.pid})`,
      detail: JSON.stringify({ type: 'appliance-start', pid: process.pid, at }),
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /**
   * An event the control plane makes itself (a drain operation's deadline and end): stored like the runtime's, in
   * the same batches and bounds. `detail` is the event's own fields.
   */
  record(event: {
    type: EventType;
    backend: string | null;
    server: string | null;
    text: string;
    detail: Record<string, unknown>;
    at?: number;
  }): void {
    const at = event.at ?? Date.now();
    this.add({
      at,
      type: event.type,
      frontend: null,
      backend: event.backend,
      server: event.server,
      text: event.text,
      detail: JSON.stringify({ type: event.type, ...event.detail, at }),
    });
  }

  /** Writes what is waiting now (tests and GET /events read after it). */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async list(query: EventsQueryDto): Promise<{ items: EventDto[]; total: number }> {
    await this.flush();
    const where: FindOptionsWhere<EventEntity> = {};
    if (query.type) where.type = query.type;
    if (query.frontend) where.frontend = query.frontend;
    if (query.backend) where.backend = query.backend;
    if (query.server) where.server = query.server;
    if (query.since !== undefined) where.at = MoreThanOrEqual(query.since);
    const [rows, total] = await this.events.findAndCount({
      where,
      order: { id: 'DESC' },
      take: query.limit ?? EVENTS_LIMIT_DEFAULT,
    });
    return { items: rows.map(toDto), total };
  }

  private add(row: Row): void {
    if (this.pending.length >= PENDING_MAX) {
      this.dropped++;
      return;
    }
    this.pending.push(row);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, FLUSH_MS);
      this.timer.unref();
    }
  }

  private async write(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.events.insert(batch);
        this.writtenSinceCapCheck += batch.length;
      } catch (error) {
        this.logger.error(`${batch.length} event(s) not stored: ${(error as Error).message}`);
      }
    }
    if (this.dropped > 0) {
      this.logger.warn(`${this.dropped} event(s) dropped: more than ${PENDING_MAX} waited to be stored`);
      this.dropped = 0;
    }
    if (this.writtenSinceCapCheck >= CAP_CHECK_EVERY) {
      this.writtenSinceCapCheck = 0;
      await this.retention.pruneEventsOverCap().catch((error: Error) => {
        this.logger.error(`pruning the event log failed: ${error.message}`);
      });
    }
  }
}

function toRow(event: RuntimeEvent): Row {
  return {
    at: event.at,
    type: event.type,
    ...subjectOf(event),
    text: describeEvent(event),
    detail: JSON.stringify(event),
  };
}

function toDto(row: EventEntity): EventDto {
  return {
    id: row.id,
    at: row.at,
    type: row.type,
    frontend: row.frontend ?? undefined,
    backend: row.backend ?? undefined,
    server: row.server ?? undefined,
    text: row.text,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}
