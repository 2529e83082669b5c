// Boot with a frontend that cannot bind, and a database write that fails after the runtime applied a
// change: the runtime is put back and nothing is stored.
import net from 'node:net';
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { freePort, listen, named, type TestServer } from '../helpers/net.js';
import { accepts, backendBody, expectError, frontendBody, revisionCount, serverBody } from './fixtures.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('boot', () => {
  it('reports a frontend that cannot bind while the others serve', async () => {
    const db = tempDbPath();
    cleanups.push(db.cleanup);
    const upstream: TestServer = await listen(named('up'));
    cleanups.push(() => upstream.close());
    const [blocked, free] = [await freePort(), await freePort()];

    let t: StartedApp = await startApp({ dbPath: db.dbPath });
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('b', [serverBody('s', upstream.port)]))
      .expect(201);
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('blocked', blocked, 'b'))
      .expect(201);
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('free', free, 'b'))
      .expect(201);
    await t.close();

    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: '127.0.0.1', port: blocked }, resolve));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));

    t = await startApp({ dbPath: db.dbPath });
    cleanups.push(() => t.close());
    expect(await accepts(free)).toBe(true);
    const failed = await t.request.get('/api/v1/frontends/blocked');
    expect(failed.body).toMatchObject({
      status: 'FAILED',
      error: { frontend: 'blocked', code: 'EADDRINUSE' },
    });
    expect((await t.request.get('/api/v1/frontends/free')).body.status).toBe('OPEN');
    const stats = await t.request.get('/api/v1/stats').expect(200);
    const byName = new Map(
      (stats.body.frontends as Array<{ name: string; status: string }>).map((f) => [f.name, f]),
    );
    expect(byName.get('blocked')).toMatchObject({
      status: 'FAILED',
      error: { frontend: 'blocked', code: 'EADDRINUSE' },
    });
    expect(byName.get('free')).toMatchObject({ status: 'OPEN' });
  });
});

describe('commit', () => {
  it('puts the runtime back and answers 500 when the database write fails after apply', async () => {
    const t = await startApp();
    cleanups.push(() => t.close());
    await t.request.post('/api/v1/backends').send(backendBody('b')).expect(201);
    const count = await revisionCount(t);
    const port = await freePort();

    // Another connection makes every revision insert fail: the pipeline's transaction fails after apply.
    const other = await new DataSource({ type: 'better-sqlite3', database: t.dbPath }).initialize();
    cleanups.push(() => other.destroy());
    await other.query(
      `CREATE TRIGGER refuse_revisions BEFORE INSERT ON revisions BEGIN SELECT RAISE(ABORT, 'disk is full'); END`,
    );
    const res = await t.request.post('/api/v1/frontends').send(frontendBody('doomed', port, 'b'));
    await other.query('DROP TRIGGER refuse_revisions');

    expectError(res, 500);
    expect(res.body.code).toBe('COMMIT_FAILED');
    expect(await revisionCount(t)).toBe(count);
    expect(await accepts(port)).toBe(false);
    expect((await t.request.get('/api/v1/frontends/doomed')).status).toBe(404);
    // And the next change goes through normally.
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fine', port, 'b'))
      .expect(201);
    expect(await accepts(port)).toBe(true);
  });
});
