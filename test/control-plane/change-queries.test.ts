// What one change costs the database: the SQL statements a weight PATCH runs, counted at better-sqlite3 itself
// (every statement TypeORM or anything else runs goes through a prepared Statement or Database.exec), listed
// when the count is over the bound (docs/workers.md, "Measured").
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { withBearer } from '../helpers/auth.js';
import { listen, named, type TestServer } from '../helpers/net.js';
import { backendBody, serverBody } from './fixtures.js';

let t: StartedApp;
let upstream: TestServer;
let statements: string[] | undefined;
const restore: Array<() => void> = [];

beforeAll(async () => {
  t = await startApp();
  upstream = await listen(named('up'));
  await t.request
    .post('/api/v1/backends')
    .send(backendBody('b', [serverBody('s', upstream.port), serverBody('t', upstream.port)]))
    .expect(201);
  const db = (
    t.app.get(DataSource).driver as unknown as { databaseConnection: { prepare(sql: string): object } }
  ).databaseConnection;
  const statement = Object.getPrototypeOf(db.prepare('SELECT 1')) as Record<string, unknown>;
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = statement[method] as (...args: unknown[]) => unknown;
    statement[method] = function (this: { source: string }, ...args: unknown[]) {
      statements?.push(this.source);
      return original.apply(this, args);
    };
    restore.push(() => (statement[method] = original));
  }
  const database = Object.getPrototypeOf(db) as Record<string, unknown>;
  const exec = database.exec as (sql: string) => unknown;
  database.exec = function (this: unknown, sql: string) {
    statements?.push(sql);
    return exec.call(this, sql);
  };
  restore.push(() => (database.exec = exec));
});
afterAll(async () => {
  for (const undo of restore) undo();
  await t?.close();
  await upstream?.close();
});

/**
 * The statements `send` runs in the app, from the request until its answer. The event log's own writes (a health
 * check's result lands when it lands: a full run once caught one after the COMMIT) are not the change's.
 */
async function counted(send: () => Promise<unknown>): Promise<string[]> {
  statements = [];
  try {
    await send();
    return statements.filter((sql) => !sql.startsWith('INSERT INTO "events"'));
  } finally {
    statements = undefined;
  }
}

describe('SQL per change', () => {
  for (const kind of ['login', 'api token'] as const) {
    it(`a server weight PATCH with a ${kind} runs at most the statements it needs`, async () => {
      const client = kind === 'login' ? t.request : withBearer(t.url, await t.tokenFor('operator'));
      await client.patch('/api/v1/backends/b/servers/s').send({ weight: 2 }).expect(200); // warm: statements prepared
      const runs: string[][] = [];
      const started = Date.now();
      for (let i = 0; i < 4; i++)
        runs.push(
          await counted(() =>
            client
              .patch('/api/v1/backends/b/servers/s')
              .send({ weight: 3 + i })
              .expect(200),
          ),
        );
      const elapsedMs = Date.now() - started;
      const list = runs.at(-1)!;
      console.log(`${kind}: ${list.length} statements per weight change:\n  ${list.join('\n  ')}`);
      const credentials = /"(api_tokens|login_sessions)"/;
      for (const run of runs) {
        const all = run.join('\n');
        // Credentials: one SELECT when the headers arrive and one after the body (a revocation meanwhile counts).
        expect(
          run.filter((sql) => sql.startsWith('SELECT') && credentials.test(sql)),
          all,
        ).toHaveLength(2);
        // The committed write reads nothing: its rows come from the rehearsal.
        const committed = run.slice(run.lastIndexOf('BEGIN TRANSACTION'));
        expect(committed.at(-1), all).toBe('COMMIT');
        expect(
          committed.filter((sql) => sql.startsWith('SELECT')),
          all,
        ).toEqual([]);
        // login + rehearsal (BEGIN, 2 reads, 3 writes, ROLLBACK) + admin states + store (BEGIN, 3 writes, COMMIT);
        // a touch of the credentials at most once a second.
        expect(run.length, all).toBeLessThanOrEqual(16);
      }
      // "Last used" is written at most once a second, not per request.
      const touches = runs.flat().filter((sql) => sql.startsWith('UPDATE') && credentials.test(sql));
      expect(touches.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / 1000));
    });
  }
});
