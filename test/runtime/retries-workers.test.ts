// Retries and per-section timeouts on the worker-pool path (TETHER_WORKERS=2): the workers run the same snapshot,
// and the main process's merged stats count what they did.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import {
  closed,
  connect,
  freePort,
  listen,
  named,
  readLine,
  sleep,
  waitFor,
  type TestServer,
} from '../helpers/net.js';

describe('retries and section timeouts with worker processes', () => {
  let t: StartedApp;
  let live: TestServer;
  let ports: { dead: number; retry: number; short: number; long: number };

  beforeAll(async () => {
    live = await listen(named('live'));
    ports = {
      dead: await freePort(),
      retry: await freePort(),
      short: await freePort(),
      long: await freePort(),
    };
    t = await startApp({ env: { TETHER_WORKERS: '2' } });
    await waitFor(
      async () =>
        (await t.request.get('/api/v1/stats')).body.workers?.every(
          (w: { state: string }) => w.state === 'running',
        ),
      20_000,
      'workers',
    );
    await t.request
      .put('/api/v1/config')
      .send({
        defaults: { timeouts: { connect: '5s', client: '1h', server: '1h', check: '5s' } },
        backends: [
          {
            name: 'deadonly',
            balance: 'roundrobin',
            check: { type: 'none' },
            retries: 3,
            redispatch: false,
            servers: [{ name: 'dead', address: '127.0.0.1', port: ports.dead }],
          },
          {
            name: 'ok',
            check: { type: 'none' },
            servers: [{ name: 'live', address: '127.0.0.1', port: live.port }],
          },
        ],
        frontends: [
          { name: 'retry', bind: { address: '127.0.0.1', port: ports.retry }, backend: 'deadonly' },
          {
            name: 'short',
            bind: { address: '127.0.0.1', port: ports.short },
            backend: 'ok',
            timeouts: { client: '1s' },
          },
          { name: 'long', bind: { address: '127.0.0.1', port: ports.long }, backend: 'ok' },
        ],
      })
      .expect(200);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await live?.close();
  });

  it('makes retries + 1 attempts on the one server, counted in the merged stats', async () => {
    for (let i = 0; i < 4; i++) {
      const client = await connect(ports.retry, { localAddress: `127.0.0.${10 + i}` });
      await closed(client, 5000);
    }
    await waitFor(
      async () => {
        const be = (await t.request.get('/api/v1/stats')).body.backends.find(
          (b: { name: string }) => b.name === 'deadonly',
        );
        return be.servers[0].econ === 16;
      },
      5000,
      'merged counts',
    );
    const dead = (await t.request.get('/api/v1/stats')).body.backends.find(
      (b: { name: string }) => b.name === 'deadonly',
    ).servers[0];
    expect(dead).toMatchObject({ econ: 16, wretr: 12, wredis: 0 });
  });

  it("closes an idle client after its frontend's timeout client, not the other frontend's", async () => {
    const a = await connect(ports.short);
    const b = await connect(ports.long);
    expect(await readLine(a, 3000)).toBe('live');
    expect(await readLine(b, 3000)).toBe('live');
    const started = Date.now();
    await closed(a, 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await sleep(1200);
    expect(b.readableEnded).toBe(false);
    b.destroy();
  });
});
