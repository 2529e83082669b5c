// A change that removes 1,200 frontends and 1,200 servers at once is stored (the deletes are batched: SQLite refuses
// one expression of 1,000+ terms), and a rollback across it works both ways. Each frontend binds one
// port on its own loopback address (127.0.<1..5>.<n>), so 1,200 listeners need no block of free ports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort, listen, named, type TestServer } from '../helpers/net.js';
import { accepts, backendBody, serverBody } from './fixtures.js';

const COUNT = 1200;

/** The i-th bind address: 127.0.1.1 ... 127.0.5.200. */
function address(i: number): string {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

describe('a change of 1,200 frontends and servers', () => {
  let t: StartedApp;
  let upstream: TestServer;
  let port: number;

  beforeAll(async () => {
    t = await startApp();
    upstream = await listen(named('up'));
    // Free on every address at once: nothing else binds 127.0.1-5.x.
    port = await freePort('0.0.0.0');
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  const config = (count: number) => ({
    backends: [
      backendBody('b', [serverBody('s', upstream.port)]),
      backendBody(
        'many',
        Array.from({ length: count }, (_, i) => serverBody(`s${i}`, upstream.port)),
      ),
    ],
    frontends: Array.from({ length: count }, (_, i) => ({
      name: `fe${i}`,
      bind: { address: address(i), port },
      backend: 'b',
    })),
  });

  /** The runtime listens on exactly the first `count` addresses (every one checked, and one past them). */
  async function expectListening(count: number): Promise<void> {
    const stats = (await t.request.get('/api/v1/stats').expect(200)).body as RuntimeStats;
    expect(stats.frontends.length).toBe(count);
    expect(stats.frontends.every((f) => f.status === 'OPEN')).toBe(true);
    expect(stats.backends.find((b) => b.name === 'many')!.servers.length).toBe(count);
    for (let from = 0; from < count; from += 100) {
      const batch = Array.from({ length: Math.min(100, count - from) }, (_, k) =>
        accepts(port, address(from + k)),
      );
      expect((await Promise.all(batch)).every(Boolean)).toBe(true);
    }
    expect(await accepts(port, address(count))).toBe(false);
    if (count < COUNT) expect(await accepts(port, address(COUNT - 1))).toBe(false);
  }

  it('goes 1,200 → 1 → rollback to 1,200 → rollback to 1, every step 2xx and live', async () => {
    const big = await t.request.put('/api/v1/config').send(config(COUNT));
    expect(big.status, JSON.stringify(big.body).slice(0, 500)).toBe(200);
    await expectListening(COUNT);

    const small = await t.request.put('/api/v1/config').send(config(1));
    expect(small.status, JSON.stringify(small.body).slice(0, 500)).toBe(200);
    await expectListening(1);

    const back = await t.request.post(`/api/v1/revisions/${big.body.revision}/rollback`);
    expect(back.status, JSON.stringify(back.body).slice(0, 500)).toBe(200);
    await expectListening(COUNT);

    const again = await t.request.post(`/api/v1/revisions/${small.body.revision}/rollback`);
    expect(again.status, JSON.stringify(again.body).slice(0, 500)).toBe(200);
    await expectListening(1);
    // The tables (what GET /frontends and /backends read) follow: rows updated in place, gone ones gone.
    const frontends = (await t.request.get('/api/v1/frontends').expect(200)).body;
    expect(frontends.map((f: { name: string }) => f.name)).toEqual(['fe0']);
    await t.request
      .patch('/api/v1/frontends/fe0')
      .send({ allow: ['127.0.0.0/8'], maxconn: 9 })
      .expect(200);
    expect((await t.request.get('/api/v1/frontends/fe0').expect(200)).body).toMatchObject({
      allow: ['127.0.0.0/8'],
      maxconn: 9,
      bind: { address: address(0), port },
    });
    const many = (await t.request.get('/api/v1/backends/many').expect(200)).body;
    expect(many.servers.map((s: { name: string }) => s.name)).toEqual(['s0']);
  }, 120_000);
});
