import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations/index.js';

/** SQLite waits this long for a lock held by another connection before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * The one SQLite data source: WAL journal synced at checkpoints, busy timeout, foreign keys, schema only through migrations
 * (run at boot; synchronize stays off).
 */
export function dataSourceOptions(dbPath: string): DataSourceOptions {
  if (dbPath !== ':memory:') createPrivately(dbPath);
  return {
    type: 'better-sqlite3',
    database: dbPath,
    enableWAL: true,
    timeout: BUSY_TIMEOUT_MS,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL syncs the log at checkpoints, not at every commit (an fsync held the event loop 0.4 ms, 4 ms
      // at p99 on this machine's disk). better-sqlite3's SQLite is built with that default for WAL databases, but it
      // applies only to a connection that found the file in WAL mode (not the first one, which made it so) and only
      // with that build flag: set here, it holds whatever SQLite is loaded. A process crash (kill -9) loses nothing
      // committed; an OS crash or power cut may lose the last commits, the database staying consistent
      // (docs/architecture.md, "Boot and crashes").
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('foreign_keys = ON');
    },
    synchronize: false,
    migrations,
    migrationsRun: true,
    migrationsTransactionMode: 'each',
  };
}

/**
 * The database holds password hashes and the CMPP check secrets: its directory and file are created
 * readable by the owner only (SQLite gives its -wal and -shm files the database file's mode).
 * Existing files keep their mode: an operator may have chosen another.
 */
function createPrivately(dbPath: string): void {
  mkdirSync(dirname(dbPath), { recursive: true, mode: 0o700 });
  closeSync(openSync(dbPath, 'a', 0o600));
}
