// A database from before migration 1796900000000 (no retries/redispatch/timeouts columns): the app migrates it at
// start, and the stored config loads and serves unchanged (absent fields: Tether's behaviour before them).
import { createRequire } from 'node:module';
import { afterAll, expect, it } from 'vitest';
import { startApp, tempDbPath } from '../helpers/app.js';
import { connect, echo, freePort, listen, readBytes } from '../helpers/net.js';
import { readDatabase } from '../helpers/sqlite.js';

// better-sqlite3 ships no types: only what this test writes with.
const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => {
  exec(sql: string): void;
  prepare(sql: string): { run(): unknown };
  close(): void;
};

const temp = tempDbPath();
afterAll(() => temp.cleanup());

it('migrates a database stored before the columns, and its config loads and serves as before', async () => {
  const upstream = await listen(echo);
  const port = await freePort();
  let t = await startApp({ dbPath: temp.dbPath });
  let before: unknown;
  try {
    await t.request
      .post('/api/v1/backends')
      .send({
        name: 'b',
        check: { type: 'none' },
        servers: [{ name: 's', address: '127.0.0.1', port: upstream.port }],
      })
      .expect(201);
    await t.request
      .post('/api/v1/frontends')
      .send({ name: 'f', bind: { address: '127.0.0.1', port }, backend: 'b' })
      .expect(201);
    before = (await t.request.get('/api/v1/config').expect(200)).body;
  } finally {
    await t.close();
  }
  // Back to the schema before the migration, as a database of the previous release has it.
  const db = new Database(temp.dbPath);
  db.exec(`ALTER TABLE "frontends" DROP COLUMN "timeouts"`);
  db.exec(`ALTER TABLE "backends" DROP COLUMN "timeouts"`);
  db.exec(`ALTER TABLE "backends" DROP COLUMN "redispatch"`);
  db.exec(`ALTER TABLE "backends" DROP COLUMN "retries"`);
  db.prepare(`DELETE FROM migrations WHERE name = 'RetriesAndSectionTimeouts1796900000000'`).run();
  db.close();

  t = await startApp({ dbPath: temp.dbPath });
  try {
    expect((await t.request.get('/api/v1/config').expect(200)).body).toEqual(before);
    const client = await connect(port);
    client.write('hi');
    expect((await readBytes(client, 2)).toString()).toBe('hi');
    client.destroy();
    // The columns are back, and the next change writes them.
    await t.request.patch('/api/v1/backends/b').send({ retries: 2 }).expect(200);
    expect(
      readDatabase(temp.dbPath, (db) =>
        db.prepare('SELECT retries, redispatch, timeouts FROM backends').get(),
      ),
    ).toEqual({ retries: 2, redispatch: null, timeouts: null });
  } finally {
    await t.close();
    await upstream.close();
  }
}, 60_000);
