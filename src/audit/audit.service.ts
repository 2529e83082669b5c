import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  Between,
  LessThanOrEqual,
  MoreThanOrEqual,
  type EntityManager,
  type FindOptionsWhere,
  type Repository,
} from 'typeorm';
import type { Role } from '../auth/roles.js';
import { persisted } from '../database/raw-rows.js';
import { AuditEventEntity, type AuditResult } from './audit-event.entity.js';
import type { AuditEventDto, AuditListDto, AuditQueryDto } from './audit.dto.js';
import {
  describeWindow,
  ThrottledAttemptWindows,
  type AttemptWindow,
  type ThrottledAttempt,
} from './throttled-attempts.js';

/** How often the rows of open throttle windows are brought up to date with their counts. */
const THROTTLED_FLUSH_MS = 2000;

/** Failed calls of one caller and action recorded one by one each minute; the rest of that minute share one row. */
export const FAILURES_RECORDED_SINGLY = 10;

/** Who acted; `none` for a caller that never authenticated (a failed or throttled login). */
export interface AuditActor {
  username: string;
  role: Role | 'none';
}
export const UNAUTHENTICATED: AuditActor = { username: 'anonymous', role: 'none' };

export interface AuditEntry {
  actor: AuditActor;
  sourceAddress?: string;
  /** Dotted verb, e.g. `frontend.create`, `server.state`, `auth.login`. */
  action: string;
  /** What was acted on, e.g. `frontend/cmpp`, `backend/ismg/server/gw1`. */
  target?: string;
  result: AuditResult;
  detail?: string;
  revisionId?: number;
}

@Injectable()
export class AuditService implements OnModuleDestroy {
  private readonly logger = new Logger('Audit');
  private readonly throttled = new ThrottledAttemptWindows();
  /** Failed calls this minute per caller and action (cleared each minute; bounded like the throttle windows). */
  private failures = { minute: 0, counts: new Map<string, number>() };
  private flushTimer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /**
   * Records a request refused by a rate limit. One row per source address, action and minute holds the count: the
   * first attempt inserts it, later ones update it every couple of seconds (and before the log is read). Never throws.
   */
  async recordThrottled(attempt: ThrottledAttempt): Promise<void> {
    const { window, first } = this.throttled.count(attempt, Date.now());
    if (first) {
      window.written = window.count;
      window.row = this.insertWindow(window);
      await window.row;
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.flushThrottled();
      }, THROTTLED_FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  /**
   * Records a request refused for want of a role, like a throttled one: one row per caller, action and minute with
   * the count (address and target of the first attempt), so a viewer's script looping on refused calls, on however
   * many targets, cannot fill the log. Never throws.
   */
  recordDenied(attempt: Omit<ThrottledAttempt, 'kind'> & { actor: AuditActor }): Promise<void> {
    return this.recordThrottled({ ...attempt, kind: 'denied' });
  }

  /**
   * Records a failed call of an audited route. The first FAILURES_RECORDED_SINGLY of a caller and action each minute
   * get a row of their own (what failed and why); past that, the minute's further failures share one row with their
   * count, so a script looping on a refused change cannot fill the log. Never throws.
   */
  async recordFailure(entry: AuditEntry): Promise<void> {
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== this.failures.minute) this.failures = { minute, counts: new Map() };
    const key = `${entry.actor.username}|${entry.action}`;
    const count = (this.failures.counts.get(key) ?? 0) + 1;
    if (this.failures.counts.size < 10_000 || this.failures.counts.has(key))
      this.failures.counts.set(key, count);
    if (count <= FAILURES_RECORDED_SINGLY) return this.record(entry);
    return this.recordThrottled({
      actor: entry.actor,
      kind: 'failed',
      sourceAddress: entry.sourceAddress,
      action: entry.action,
      target: entry.target,
      detail: `more than ${FAILURES_RECORDED_SINGLY} failed calls a minute; the first ${FAILURES_RECORDED_SINGLY} have rows of their own`,
    });
  }

  /** Brings every throttle window's row up to date with its count. */
  flushThrottled(): Promise<void> {
    this.flushing ??= this.writeWindows().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async onModuleDestroy(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushThrottled();
  }

  private async insertWindow(window: AttemptWindow): Promise<number | undefined> {
    const { actor, sourceAddress, action, target } = window.attempt;
    try {
      const result = await this.events.insert(
        toEntity({
          actor: actor ?? UNAUTHENTICATED,
          sourceAddress,
          action,
          target,
          result: window.attempt.kind === 'failed' ? 'failed' : 'denied',
          detail: describeWindow(window, this.throttled.windowMs),
        }),
      );
      return (result.identifiers[0] as { id?: number } | undefined)?.id;
    } catch (error) {
      this.logger.error(`could not record throttled ${action}: ${(error as Error).message}`);
      return undefined;
    }
  }

  private async writeWindows(): Promise<void> {
    for (const window of this.throttled.unwritten()) {
      const count = window.count;
      const id = await window.row;
      window.written = count;
      if (id === undefined) continue;
      try {
        await this.events.update({ id }, { detail: describeWindow(window, this.throttled.windowMs) });
      } catch (error) {
        this.logger.error(`could not update throttled ${window.attempt.action}: ${(error as Error).message}`);
      }
    }
    this.throttled.forgetEnded(Date.now());
  }

  /** Appends one event. Never throws: a failing audit write is logged, not turned into a failed request. */
  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.events.insert(toEntity(entry));
    } catch (error) {
      this.logger.error(
        `could not record ${entry.action} by ${entry.actor.username}: ${(error as Error).message}`,
      );
    }
  }

  /** Appends one event inside the caller's transaction (it commits or rolls back with the change). */
  async recordWith(manager: EntityManager, entry: AuditEntry): Promise<void> {
    // One prepared INSERT: every config change writes this twice (its rehearsal and its store), and TypeORM's
    // insert() built the statement and an entity each time (~70 µs of the ~8 µs the statement itself takes).
    const row = toEntity(entry);
    await manager.query(INSERT_EVENT, [
      persisted(this.events, 'at', row.at),
      row.actor,
      row.role,
      row.sourceAddress,
      row.action,
      row.target,
      row.result,
      row.detail,
      row.revisionId,
    ]);
  }

  async list(query: AuditQueryDto): Promise<AuditListDto> {
    await this.flushThrottled();
    const where: FindOptionsWhere<AuditEventEntity> = {};
    if (query.user) where.actor = query.user;
    if (query.action) where.action = query.action;
    if (query.result) where.result = query.result;
    if (query.from && query.to) where.at = Between(new Date(query.from), new Date(query.to));
    else if (query.from) where.at = MoreThanOrEqual(new Date(query.from));
    else if (query.to) where.at = LessThanOrEqual(new Date(query.to));
    const [rows, total] = await Promise.all([
      this.events.find({ where, order: { id: 'DESC' }, take: query.limit ?? 100, skip: query.offset ?? 0 }),
      this.events.count({ where }),
    ]);
    return { items: rows.map(toDto), total };
  }
}

const INSERT_EVENT =
  'INSERT INTO "audit_events" ("at", "actor", "role", "sourceAddress", "action", "target", "result", "detail", ' +
  '"revisionId") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';

function toEntity(entry: AuditEntry): Partial<AuditEventEntity> {
  return {
    at: new Date(),
    actor: entry.actor.username,
    role: entry.actor.role,
    sourceAddress: entry.sourceAddress ?? null,
    action: entry.action,
    target: entry.target ?? null,
    result: entry.result,
    detail: entry.detail ?? null,
    revisionId: entry.revisionId ?? null,
  };
}

function toDto(row: AuditEventEntity): AuditEventDto {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    role: row.role,
    sourceAddress: row.sourceAddress ?? undefined,
    action: row.action,
    target: row.target ?? undefined,
    result: row.result,
    detail: row.detail ?? undefined,
    revisionId: row.revisionId ?? undefined,
  };
}
