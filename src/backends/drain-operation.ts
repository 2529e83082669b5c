// A drain and, when it was given a deadline or a `then`, the operation that ends it (docs/cmpp-session-control.md,
// "Drains"). Plain data and pure functions: the service (drains.service.ts) keeps the records and acts on them.
import type { DrainProgress, ServerStats } from '../runtime/types.js';
import type { DrainThen } from '../schema/fields.js';

export interface DrainRecord {
  backend: string;
  server: string;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms; null: no deadline. Absolute, so a restart keeps it: startedAt + the deadline asked for. */
  deadlineAt: number | null;
  /** null: a plain drain (HAProxy's), which stays drain; otherwise an operation that moves the server by itself. */
  then: DrainThen | null;
  /** When the deadline closed the sessions left, and how many; null before. */
  closedAt: number | null;
  closed: number;
}

/** What the API asked for: `deadline` (ms) and `then` make the drain an operation; `then` defaults to maint. */
export function newDrain(
  backend: string,
  server: string,
  now: number,
  deadline: number | undefined,
  then: DrainThen | undefined,
): DrainRecord {
  const operation = deadline !== undefined || then !== undefined;
  return {
    backend,
    server,
    startedAt: now,
    deadlineAt: deadline === undefined ? null : now + deadline,
    then: operation ? (then ?? 'maint') : null,
    closedAt: null,
    closed: 0,
  };
}

export function isOperation(record: DrainRecord): boolean {
  return record.then !== null;
}

/** The record as stored beside the admin state (server_admin_states). */
export function drainColumns(record: DrainRecord | null): {
  drainStartedAt: number | null;
  drainDeadlineMs: number | null;
  drainThen: DrainThen | null;
} {
  if (record === null) return { drainStartedAt: null, drainDeadlineMs: null, drainThen: null };
  return {
    drainStartedAt: record.startedAt,
    drainDeadlineMs: record.deadlineAt === null ? null : record.deadlineAt - record.startedAt,
    drainThen: record.then,
  };
}

/** Back from the stored columns; a drain stored before they existed started at its state's last change. */
export function drainFromColumns(row: {
  backend: string;
  server: string;
  updatedAt: Date;
  drainStartedAt: number | null;
  drainDeadlineMs: number | null;
  drainThen: DrainThen | null;
}): DrainRecord {
  const startedAt = row.drainStartedAt ?? new Date(row.updatedAt).getTime();
  return {
    backend: row.backend,
    server: row.server,
    startedAt,
    deadlineAt: row.drainDeadlineMs === null ? null : startedAt + row.drainDeadlineMs,
    then: row.drainThen,
    closedAt: null,
    closed: 0,
  };
}

export function drainProgress(record: DrainRecord, server: ServerStats, now: number): DrainProgress {
  return {
    startedAt: record.startedAt,
    deadlineAt: record.deadlineAt,
    then: record.then,
    sessionsLeft: server.scur,
    oldestSessionAgeMs: server.scur > 0 ? server.oldestSessionAge : 0,
    timeLeftMs: record.deadlineAt === null ? null : Math.max(0, record.deadlineAt - now),
    closedAt: record.closedAt,
    closed: record.closed,
  };
}

/** One line for audit and the event log: `drain with deadline 30000 ms, then maint`. */
export function describeDrain(record: DrainRecord): string {
  if (record.then === null) return 'drain';
  const deadline =
    record.deadlineAt === null ? '' : ` with deadline ${record.deadlineAt - record.startedAt} ms`;
  return `drain${deadline}, then ${record.then}`;
}
