import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations/index.js';

/** SQLite waits this long for a lock held by another connection before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * The one SQLite data source: WAL journal, busy timeout, foreign keys, schema only through migrations
 * (run at boot; synchronize stays off).
 */
export function dataSourceOptions(dbPath: string): DataSourceOptions {
  if (dbPath !== ':memory:') mkdirSync(dirname(dbPath), { recursive: true });
  return {
    type: 'better-sqlite3',
    database: dbPath,
    enableWAL: true,
    timeout: BUSY_TIMEOUT_MS,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('foreign_keys = ON');
    },
    synchronize: false,
    migrations,
    migrationsRun: true,
    migrationsTransactionMode: 'each',
  };
}
