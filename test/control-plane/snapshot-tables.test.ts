// The frontends/backends/servers tables hold the head after every kind of change, though a change reads back and
// writes only the parts of the snapshot it changed (src/config/snapshot-tables.ts): the frontends when only a
// server changed, one backend's servers when only they changed, nothing of a backend that was renamed away.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort } from '../helpers/net.js';
import { readDatabase } from '../helpers/sqlite.js';
import { backendBody, frontendBody, serverBody } from './fixtures.js';

let t: StartedApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t?.close());

/** What the tables hold, in the shape of the head's names, positions and the fields changed below. */
function tables(): unknown {
  return readDatabase(t.dbPath, (db) => {
    const backends = db
      .prepare('SELECT id, name, position, balance FROM backends ORDER BY position')
      .all() as Array<{
      id: number;
      name: string;
      balance: string;
    }>;
    const servers = db
      .prepare('SELECT backendId, name, position, port, weight FROM servers ORDER BY backendId, position')
      .all() as Array<{ backendId: number; name: string; port: number; weight: number }>;
    return {
      frontends: db.prepare('SELECT name, backend, maxconn FROM frontends ORDER BY position').all(),
      backends: backends.map((b) => ({
        name: b.name,
        balance: b.balance,
        servers: servers
          .filter((s) => s.backendId === b.id)
          .map((s) => ({ name: s.name, port: s.port, weight: s.weight })),
      })),
    };
  });
}

async function head(): Promise<unknown> {
  const config = (await t.request.get('/api/v1/config').expect(200)).body;
  return {
    frontends: config.frontends.map((f: { name: string; backend: string; maxconn?: number }) => ({
      name: f.name,
      backend: f.backend,
      maxconn: f.maxconn ?? null,
    })),
    backends: config.backends.map(
      (b: {
        name: string;
        balance: string;
        servers: Array<{ name: string; port: number; weight: number }>;
      }) => ({
        name: b.name,
        balance: b.balance,
        servers: b.servers.map((s) => ({ name: s.name, port: s.port, weight: s.weight })),
      }),
    ),
  };
}

it('hold the head after each change, whichever parts it changed', async () => {
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['backend a', () => t.request.post('/api/v1/backends').send(backendBody('a', [serverBody('a1', 7001)]))],
    [
      'backend b',
      () =>
        t.request
          .post('/api/v1/backends')
          .send(backendBody('b', [serverBody('b1', 7101), serverBody('b2', 7102)])),
    ],
    [
      'frontend',
      async () => t.request.post('/api/v1/frontends').send(frontendBody('fe', await freePort(), 'b')),
    ],
    ['a weight', () => t.request.patch('/api/v1/backends/b/servers/b2').send({ weight: 5 })],
    ['a frontend maxconn', () => t.request.patch('/api/v1/frontends/fe').send({ maxconn: 300 })],
    ['a server added', () => t.request.post('/api/v1/backends/a/servers').send(serverBody('a2', 7002))],
    ['a server removed', () => t.request.delete('/api/v1/backends/b/servers/b1')],
    ['a backend field', () => t.request.patch('/api/v1/backends/a').send({ balance: 'leastconn' })],
    ['a rename carrying the frontend', () => t.request.patch('/api/v1/backends/b').send({ name: 'c' })],
    [
      'the order of the backends, by the whole config',
      async () => {
        const config = (await t.request.get('/api/v1/config').expect(200)).body;
        return t.request
          .put('/api/v1/config')
          .send({ ...config, revision: undefined, backends: [...config.backends].reverse() });
      },
    ],
    ['a backend removed', () => t.request.delete('/api/v1/backends/a')],
  ];
  for (const [step, change] of steps) {
    const res = (await change()) as { status: number; body: unknown };
    expect(res.status, `${step}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    expect(tables(), step).toEqual(await head());
  }
  // The revision row is a plain INSERT: its creation time comes from the column's default.
  const [latest] = (await t.request.get('/api/v1/revisions?limit=1').expect(200)).body.items;
  expect(Math.abs(Date.parse(latest.createdAt) - Date.now())).toBeLessThan(60_000);
});
