// A restart while a server's host name no longer resolves (DNS changed while Tether was down) must not
// keep the appliance down: it boots, serves the other servers, and shows that server DOWN saying why.
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { connect, freePort, listen, named, readLine, type TestServer } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from './fixtures.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('boot with a host name that no longer resolves', () => {
  it('starts, serves, and shows the server DOWN with the DNS error', async () => {
    const db = tempDbPath();
    cleanups.push(db.cleanup);
    const upstream: TestServer = await listen(named('up'));
    cleanups.push(() => upstream.close());
    const port = await freePort();
    let t: StartedApp = await startApp({ dbPath: db.dbPath });
    await t.request
      .post('/api/v1/backends')
      .send(
        backendBody('b', [
          serverBody('by-name', upstream.port, { address: 'localhost' }),
          serverBody('by-ip', upstream.port),
        ]),
      )
      .expect(201);
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe', port, 'b'))
      .expect(201);
    await t.close();

    // The name goes away while Tether is down (the stored head now names a host that doesn't exist).
    const other = await new DataSource({ type: 'better-sqlite3', database: db.dbPath }).initialize();
    await other.query(`UPDATE revisions SET snapshot = replace(snapshot, '"localhost"', '"gone.invalid"')`);
    await other.destroy();

    t = await startApp({ dbPath: db.dbPath });
    cleanups.push(() => t.close());
    expect(await readLine(await connect(port))).toBe('up');
    const stats = (await t.request.get('/api/v1/stats').expect(200)).body as RuntimeStats;
    expect(stats.backends[0].servers.map((s) => [s.name, s.health, s.check_desc])).toEqual([
      ['by-name', 'DOWN', 'DNS: name no longer resolves (ENOTFOUND)'],
      ['by-ip', 'UP', ''],
    ]);
  });
});
