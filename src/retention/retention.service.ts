import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { SETTINGS, type Settings } from '../settings.js';
import { retentionSettingsOf, type RetentionSettings } from './retention-settings.js';

/** Pruned at start and then this often. */
export const PRUNE_INTERVAL_MS = 60 * 60_000;
/** Rows deleted per statement, so a first prune of a large history never holds the database for long. */
const BATCH = 2000;
const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

export interface Pruned {
  auditEvents: number;
  revisions: number;
  adminStates: number;
  events: number;
  samples: number;
}

/**
 * Keeps the audit log, the revision history, the event log and the chart samples bounded: audit entries older than the retention are deleted;
 * revisions older than theirs are deleted too, except the newest `revisionsKept` (so the head never goes). A pruned
 * revision answers 404 like one that never existed (GET, diff, rollback). Admin states of servers that left the config
 * are kept by name so a server that comes back keeps its state; one not set for as long as revisions are kept, for a
 * server the head no longer has, goes too.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Retention');
  private readonly settings: RetentionSettings;
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(SETTINGS) settings: Settings,
  ) {
    this.settings = retentionSettingsOf(settings);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.pruneAndLog();
    this.timer = setInterval(() => void this.pruneAndLog(), PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async prune(now = Date.now()): Promise<Pruned> {
    const auditCutoff = sqliteTime(now - this.settings.auditRetentionDays * DAY_MS);
    const revisionCutoff = sqliteTime(now - this.settings.revisionRetentionDays * DAY_MS);
    const auditEvents = await this.inBatches(
      `DELETE FROM "audit_events" WHERE "id" IN (SELECT "id" FROM "audit_events" WHERE "at" < ? ORDER BY "id" LIMIT ${BATCH})`,
      [auditCutoff],
    );
    // The revision at offset kept-1 from the newest is the oldest one kept by count; only older ones may go.
    const revisions = await this.inBatches(
      `DELETE FROM "revisions" WHERE "id" IN (SELECT "id" FROM "revisions" WHERE "createdAt" < ? AND "id" < (SELECT "id" FROM "revisions" ORDER BY "id" DESC LIMIT 1 OFFSET ?) ORDER BY "id" LIMIT ${BATCH})`,
      [revisionCutoff, this.settings.revisionsKept - 1],
    );
    const adminStates = await this.inBatches(
      `DELETE FROM "server_admin_states" WHERE "rowid" IN (SELECT st."rowid" FROM "server_admin_states" st WHERE st."updatedAt" < ? AND NOT EXISTS (SELECT 1 FROM "servers" s JOIN "backends" b ON b."id" = s."backendId" WHERE b."name" = st."backend" AND s."name" = st."server") LIMIT ${BATCH})`,
      [revisionCutoff],
    );
    const events =
      (await this.inBatches(
        `DELETE FROM "events" WHERE "id" IN (SELECT "id" FROM "events" WHERE "at" < ? ORDER BY "id" LIMIT ${BATCH})`,
        [now - this.settings.eventRetentionDays * DAY_MS],
      )) + (await this.pruneEventsOverCap());
    const samples = await this.inBatches(
      `DELETE FROM "stats_samples" WHERE "t" IN (SELECT "t" FROM "stats_samples" WHERE "t" < ? ORDER BY "t" LIMIT ${BATCH})`,
      [now - this.settings.sampleRetentionHours * HOUR_MS],
    );
    return { auditEvents, revisions, adminStates, events, samples };
  }

  /** Deletes the events beyond the newest `eventsKept`, whatever their age. */
  pruneEventsOverCap(): Promise<number> {
    // The event at offset kept from the newest is the newest one to go; it and older ones go.
    return this.inBatches(
      `DELETE FROM "events" WHERE "id" IN (SELECT "id" FROM "events" WHERE "id" <= (SELECT "id" FROM "events" ORDER BY "id" DESC LIMIT 1 OFFSET ?) ORDER BY "id" LIMIT ${BATCH})`,
      [this.settings.eventsKept],
    );
  }

  private async pruneAndLog(): Promise<void> {
    try {
      const pruned = await this.prune();
      if (pruned.events > 0 || pruned.samples > 0)
        this.logger.log(
          `pruned ${pruned.events} event(s) older than ${this.settings.eventRetentionDays} days or beyond the newest ` +
            `${this.settings.eventsKept}, and ${pruned.samples} chart sample(s) older than ${this.settings.sampleRetentionHours} hours`,
        );
      if (pruned.auditEvents > 0 || pruned.revisions > 0 || pruned.adminStates > 0) {
        this.logger.log(
          `pruned ${pruned.auditEvents} audit entr(ies) older than ${this.settings.auditRetentionDays} days, ` +
            `${pruned.revisions} revision(s) older than ${this.settings.revisionRetentionDays} days ` +
            `(the newest ${this.settings.revisionsKept} are kept) and ${pruned.adminStates} admin state(s) of ` +
            `servers gone from the config for as long`,
        );
      }
    } catch (error) {
      this.logger.error(`pruning failed: ${(error as Error).message}`);
    }
  }

  private async inBatches(sql: string, parameters: unknown[]): Promise<number> {
    let total = 0;
    for (;;) {
      const runner = this.dataSource.createQueryRunner();
      let affected: number;
      try {
        affected = (await runner.query(sql, parameters, true)).affected ?? 0;
      } finally {
        await runner.release();
      }
      total += affected;
      if (affected < BATCH) return total;
      // Let requests in between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/** The form TypeORM stores datetime columns in on SQLite (UTC, `YYYY-MM-DD HH:MM:SS.SSS`), comparable as text. */
function sqliteTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
