// Reads a Tether database file directly (without the app), to check what is really stored.
import { createRequire } from 'node:module';

interface Statement {
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): { changes: number };
}
interface SqliteDatabase {
  prepare(sql: string): Statement;
  pragma(sql: string, options?: { simple?: boolean }): unknown;
  close(): void;
}

// better-sqlite3 ships no types and the project has no @types package for it; this is all the tests need.
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  path: string,
  options?: { readonly?: boolean },
) => SqliteDatabase;

/** Opens the file read-only, runs fn, closes it. */
export function readDatabase<T>(path: string, fn: (db: SqliteDatabase) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Opens the file for writing behind the app's back (to prove what the app does not read), runs fn, closes it. */
export function writeDatabase<T>(path: string, fn: (db: SqliteDatabase) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
