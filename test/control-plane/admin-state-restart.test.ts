// Admin states reach the runtime with the snapshot, before any listener opens: after a restart, and
// when a server comes back into the config, a server left in maint takes no session, even from
// clients that were reconnecting in a loop all along.
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { freePort, listen, named, readLine, sleep, type TestServer } from '../helpers/net.js';
import net from 'node:net';
import { DataSource } from 'typeorm';
import { backendBody, frontendBody, serverBody } from './fixtures.js';

const CLIENTS = 200;
const db = tempDbPath();
let t: StartedApp | undefined;
const upstreams: TestServer[] = [];

afterAll(async () => {
  await t?.close();
  await Promise.all(upstreams.map((u) => u.close()));
  db.cleanup();
});

/** One connection: the name of the server it landed on, or null if refused/closed before a line. */
function attempt(port: number, localAddress: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.setTimeout(2000);
    const done = (name: string | null) => {
      socket.destroy();
      resolve(name);
    };
    socket.once('error', () => done(null));
    socket.once('timeout', () => done(null));
    socket.once('connect', () => {
      readLine(socket, 2000).then(done, () => done(null));
    });
  });
}

/**
 * CLIENTS loops (127.0.0.2 ... 127.0.0.201), each reconnecting until stop() (bounded by `maxMs` and
 * 400 attempts each). Counts sessions per server.
 */
function reconnectLoops(port: number, maxMs: number) {
  const landed = new Map<string, number>();
  let stopped = false;
  const deadline = Date.now() + maxMs;
  const loops = Array.from({ length: CLIENTS }, async (_, i) => {
    const localAddress = `127.0.0.${2 + i}`;
    for (let n = 0; n < 400 && !stopped && Date.now() < deadline; n++) {
      const name = await attempt(port, localAddress);
      if (name === null) await sleep(5);
      else landed.set(name, (landed.get(name) ?? 0) + 1);
    }
  });
  return {
    landed,
    total: () => [...landed.values()].reduce((a, b) => a + b, 0),
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

describe('admin states and reconnect bursts', () => {
  let port: number;

  it('a server in maint takes no session while clients reconnect across a restart', async () => {
    upstreams.push(await listen(named('one')), await listen(named('two')));
    port = await freePort();
    t = await startApp({ dbPath: db.dbPath });
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('b', [serverBody('one', upstreams[0].port), serverBody('two', upstreams[1].port)]))
      .expect(201);
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe', port, 'b'))
      .expect(201);
    await t.request.put('/api/v1/backends/b/servers/one/state').send({ state: 'maint' }).expect(200);

    const loops = reconnectLoops(port, 30_000);
    await sleep(200);
    const beforeRestart = loops.total();
    await t.close();
    t = await startApp({ dbPath: db.dbPath });
    const afterStart = loops.total();
    // Let every client land a few times on the restarted appliance.
    const until = Date.now() + 10_000;
    while (loops.total() < afterStart + 3 * CLIENTS && Date.now() < until) await sleep(20);
    await loops.stop();

    expect(beforeRestart).toBeGreaterThan(0);
    expect(loops.total()).toBeGreaterThanOrEqual(afterStart + 3 * CLIENTS);
    expect(loops.landed.get('one') ?? 0).toBe(0);
    expect((await t.request.get('/api/v1/backends/b/servers/one')).body.adminState).toBe('maint');
  }, 60_000);

  it('a server removed and added back comes back in its stored state, not ready', async () => {
    const loops = reconnectLoops(port, 30_000);
    await t!.request.delete('/api/v1/backends/b/servers/one').expect(200);
    const added = await t!.request
      .post('/api/v1/backends/b/servers')
      .send(serverBody('one', upstreams[0].port));
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body.adminState).toBe('maint');
    const afterAdd = loops.total();
    const until = Date.now() + 10_000;
    while (loops.total() < afterAdd + 3 * CLIENTS && Date.now() < until) await sleep(20);
    await loops.stop();
    expect(loops.landed.get('one') ?? 0).toBe(0);
    expect((await t!.request.get('/api/v1/backends/b/servers/one')).body.adminState).toBe('maint');
  }, 60_000);

  it('a change that cannot be stored leaves a maint server in maint', async () => {
    const other = await new DataSource({ type: 'better-sqlite3', database: db.dbPath }).initialize();
    try {
      await other.query(
        `CREATE TRIGGER refuse_revisions BEFORE INSERT ON revisions BEGIN SELECT RAISE(ABORT, 'disk is full'); END`,
      );
      const config = (await t!.request.get('/api/v1/config').expect(200)).body;
      const withoutOne = {
        defaults: config.defaults,
        frontends: config.frontends,
        backends: [backendBody('b', [serverBody('two', upstreams[1].port)])],
      };
      const res = await t!.request.put('/api/v1/config').send(withoutOne);
      expect(res.status).toBe(500);
    } finally {
      await other.query('DROP TRIGGER IF EXISTS refuse_revisions');
      await other.destroy();
    }
    expect((await t!.request.get('/api/v1/backends/b/servers/one')).body.adminState).toBe('maint');
    const loops = reconnectLoops(port, 10_000);
    while (loops.total() < CLIENTS) await sleep(20);
    await loops.stop();
    expect(loops.landed.get('one') ?? 0).toBe(0);
  }, 60_000);
});
