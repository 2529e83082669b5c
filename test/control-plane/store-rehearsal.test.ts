// A change the database would refuse is found out before the runtime is touched: the write is
// rehearsed in a rolled-back transaction first, so live listeners and servers never go and come back.
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { connect, freePort, listen, named, readLine, type TestServer } from '../helpers/net.js';
import { accepts, backendBody, expectError, frontendBody, revisionCount, serverBody } from './fixtures.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('a store that would fail', () => {
  it('leaves the running frontend and server untouched (their counters too)', async () => {
    const t: StartedApp = await startApp();
    cleanups.push(() => t.close());
    const upstream: TestServer = await listen(named('up'));
    cleanups.push(() => upstream.close());
    const port = await freePort();
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('b', [serverBody('s', upstream.port)]))
      .expect(201);
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe', port, 'b'))
      .expect(201);
    const client = await connect(port);
    expect(await readLine(client)).toBe('up');
    client.destroy();
    const stot = async () => {
      const stats = (await t.request.get('/api/v1/stats').expect(200)).body as RuntimeStats;
      const fe = stats.frontends.find((f) => f.name === 'fe');
      const s = stats.backends.find((b) => b.name === 'b')?.servers.find((x) => x.name === 's');
      return { frontend: fe?.stot, server: s?.stot };
    };
    expect(await stot()).toEqual({ frontend: 1, server: 1 });
    const count = await revisionCount(t);

    const other = await new DataSource({ type: 'better-sqlite3', database: t.dbPath }).initialize();
    cleanups.push(() => other.destroy());
    await other.query(
      `CREATE TRIGGER refuse_revisions BEFORE INSERT ON revisions BEGIN SELECT RAISE(ABORT, 'disk is full'); END`,
    );
    // Removing both would close the listener and drop the server's counters had the runtime applied it.
    const res = await t.request
      .put('/api/v1/config')
      .send({ backends: [backendBody('other')], frontends: [] });
    await other.query('DROP TRIGGER refuse_revisions');

    expectError(res, 500);
    expect(res.body.code).toBe('COMMIT_FAILED');
    expect(await revisionCount(t)).toBe(count);
    // Same runtime objects: a removal and re-adding would have started these at 0.
    expect(await stot()).toEqual({ frontend: 1, server: 1 });
    expect(await accepts(port)).toBe(true);
  });
});
