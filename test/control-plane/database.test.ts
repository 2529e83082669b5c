// The database file: created with its directory, private to its owner, in WAL mode synced at checkpoints, its schema made
// by the migrations (synchronize is off).
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, expect, it } from 'vitest';
import { startApp, tempDbPath } from '../helpers/app.js';
import { readDatabase } from '../helpers/sqlite.js';
import { migrations } from '../../migrations/index.js';

const temp = tempDbPath();
afterAll(() => temp.cleanup());

it('creates a private database in WAL mode whose schema comes from the migrations', async () => {
  const dbPath = join(dirname(temp.dbPath), 'not', 'yet', 'there', 'tether.db');
  const t = await startApp({ dbPath });
  try {
    await t.request.post('/api/v1/backends').send({ name: 'b', servers: [] }).expect(201);
    expect(statSync(dirname(dbPath)).mode & 0o777).toBe(0o700);
    expect(statSync(dbPath).mode & 0o777).toBe(0o600);
    expect(statSync(`${dbPath}-wal`).mode & 0o777).toBe(0o600);
    // The log is synced at checkpoints, not at each commit (1 = NORMAL; SQLite's default, 2 = FULL, syncs every commit;
    // better-sqlite3's build defaults WAL databases to NORMAL, so this pins the setting rather than changes it).
    const [{ synchronous }] = await t.app.get(DataSource).query('PRAGMA synchronous');
    expect(synchronous).toBe(1);
  } finally {
    await t.close();
  }
  readDatabase(dbPath, (db) => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const applied = db.prepare('SELECT name FROM migrations ORDER BY id').all() as Array<{ name: string }>;
    expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => m.name));
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
      name: string;
    }>;
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'frontends',
        'backends',
        'servers',
        'revisions',
        'server_admin_states',
        'audit_events',
      ]),
    );
  });
});
