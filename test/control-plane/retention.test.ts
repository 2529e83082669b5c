// Issue 8, point 8: audit entries and revisions are kept for a bounded time (settings), at start and periodically;
// the newest revisions are kept whatever their age, the head always; a pruned revision answers 404 cleanly.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionService } from '../../src/retention/retention.service.js';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { readDatabase } from '../helpers/sqlite.js';
import { backendBody } from './fixtures.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => {
  prepare(sql: string): { run(...params: unknown[]): unknown };
  close(): void;
};

const DAY_MS = 24 * 60 * 60_000;
const daysAgo = (days: number) =>
  new Date(Date.now() - days * DAY_MS).toISOString().replace('T', ' ').replace('Z', '');

function writeDatabase(path: string, fn: (db: InstanceType<typeof Database>) => void): void {
  const db = new Database(path);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

const ids = (path: string, table: string) =>
  readDatabase(path, (db) => db.prepare(`SELECT id FROM ${table} ORDER BY id`).all() as { id: number }[]).map(
    (r) => r.id,
  );

describe('retention', () => {
  const db = tempDbPath();
  let t: StartedApp;
  let head: number;

  beforeAll(async () => {
    // A history: six revisions and their audit entries, made through the API.
    const first = await startApp({ dbPath: db.dbPath });
    for (let i = 0; i < 6; i++)
      await first.request
        .post('/api/v1/backends')
        .send(backendBody(`b${i}`))
        .expect(201);
    head = (await first.request.get('/api/v1/config').expect(200)).body.revision;
    await first.close();
    // Age it while the appliance is down: every revision 200 days old but revision head-3; audit entries likewise,
    // plus 3,000 old ones.
    writeDatabase(db.dbPath, (sqlite) => {
      sqlite.prepare('UPDATE revisions SET createdAt = ? WHERE id != ?').run(daysAgo(200), head - 3);
      sqlite.prepare("UPDATE audit_events SET at = ? WHERE action != 'backend.create'").run(daysAgo(200));
      const insert = sqlite.prepare(
        "INSERT INTO audit_events (at, actor, role, action, result) VALUES (?, 'old', 'admin', 'old.entry', 'ok')",
      );
      for (let i = 0; i < 3000; i++) insert.run(daysAgo(91 + (i % 100)));
      insert.run(daysAgo(89));
    });
    t = await startApp({ dbPath: db.dbPath, env: { TETHER_REVISIONS_KEPT: '1' } });
  });
  afterAll(async () => {
    await t?.close();
    db.cleanup();
  });

  it('prunes at start: old audit entries go, recent ones stay', () => {
    const actions = readDatabase(t.dbPath, (db) =>
      db.prepare('SELECT action, COUNT(*) AS n FROM audit_events GROUP BY action ORDER BY action').all(),
    ) as { action: string; n: number }[];
    const byAction = Object.fromEntries(actions.map((a) => [a.action, a.n]));
    expect(byAction['old.entry']).toBe(1); // the one 89 days old
    expect(byAction['backend.create']).toBe(6);
  });

  it('keeps the head and every revision younger than the retention, and no other', () => {
    expect(ids(t.dbPath, 'revisions')).toEqual([head - 3, head]);
  });

  it('answers 404 for a pruned revision: read, diff and rollback', async () => {
    const pruned = head - 4;
    for (const res of [
      await t.request.get(`/api/v1/revisions/${pruned}`),
      await t.request.get(`/api/v1/revisions/${head}/diff`).query({ against: pruned }),
      await t.request.get(`/api/v1/revisions/${head - 3}/diff`), // its parent is gone
      await t.request.post(`/api/v1/revisions/${pruned}/rollback`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.message).toContain(`revision "${pruned}" not found`);
    }
    // The kept ones still work, and the head is what is served.
    await t.request
      .get(`/api/v1/revisions/${head}/diff`)
      .query({ against: head - 3 })
      .expect(200);
    expect((await t.request.get('/api/v1/config').expect(200)).body.revision).toBe(head);
  });

  it('prunes again later, with the same rules', async () => {
    writeDatabase(t.dbPath, (sqlite) => {
      sqlite.prepare('UPDATE revisions SET createdAt = ?').run(daysAgo(100));
    });
    const pruned = await t.app.get(RetentionService).prune();
    expect(pruned.revisions).toBe(1);
    expect(ids(t.dbPath, 'revisions')).toEqual([head]);
    // Nothing left to prune: the head stays even when it is older than the retention and the only one.
    expect((await t.app.get(RetentionService).prune()).revisions).toBe(0);
  });

  it('drops old admin states of servers the config no longer has, and keeps every other', async () => {
    // b0/s1 is in the head, in maint for 200 days; the others name servers gone from the config.
    await t.request
      .post('/api/v1/backends/b0/servers')
      .send({ name: 's1', address: '127.0.0.1', port: 9 })
      .expect(201);
    writeDatabase(t.dbPath, (sqlite) => {
      const insert = sqlite.prepare(
        "INSERT INTO server_admin_states (backend, server, state, updatedAt, updatedBy) VALUES (?, ?, 'maint', ?, 'admin')",
      );
      insert.run('b0', 's1', daysAgo(200)); // still in the config: kept however old
      insert.run('gone', 'old', daysAgo(200)); // gone and old: pruned
      insert.run('gone', 'recent', daysAgo(10)); // gone but recent: kept, it may come back
    });
    const pruned = await t.app.get(RetentionService).prune();
    expect(pruned.adminStates).toBe(1);
    const left = readDatabase(t.dbPath, (db) =>
      db.prepare('SELECT backend, server FROM server_admin_states ORDER BY backend, server').all(),
    );
    expect(left).toEqual([
      { backend: 'b0', server: 's1' },
      { backend: 'gone', server: 'recent' },
    ]);
  });
});
