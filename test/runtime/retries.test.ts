// A backend's `retries` and `redispatch`, and the frontends' and backends' own timeouts, on real sockets
// (docs/config-model.md, "Retries and per-section timeouts"). The counts are HAProxy 2.6's on the same
// config (measured: docs/haproxy-import.md, "Retries").
import { describe, expect, it } from 'vitest';
import {
  backend,
  blackhole,
  closed,
  connect,
  freePort,
  frontend,
  named,
  readLine,
  server,
  sleep,
  snapshot,
  waitFor,
} from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';
import type { ProxyRuntime } from '../../src/runtime/runtime.js';
import type { Backend, Server } from '../../src/schema/snapshot.js';

const { defer, runtime, start } = closeAfterEach();

async function serverStats(rt: ProxyRuntime, name: string) {
  const s = (await rt.stats()).backends[0].servers.find((x) => x.name === name)!;
  return { econ: s.econ, wretr: s.wretr, wredis: s.wredis, stot: s.stot };
}

/** A runtime whose frontend `fe` (on the port returned) sends to backend `be`: `dead` (a closed port), then `alive`. */
async function deadThenAlive(options: Partial<Backend>, deadOptions: Partial<Server> = {}) {
  const dead = await freePort();
  const alive = await start(named('alive'));
  const port = await freePort();
  const rt = runtime();
  await rt.apply(
    snapshot(
      [frontend('fe', port, 'be')],
      [backend('be', [server('dead', dead, deadOptions), server('alive', alive.port)], options)],
    ),
  );
  return { rt, port };
}

async function gone(rt: ProxyRuntime) {
  await waitFor(async () => (await rt.sessions()).length === 0, 3000, 'sessions gone');
}

describe('retries', () => {
  it('retries 0: one attempt, then the client is closed', async () => {
    const { rt, port } = await deadThenAlive({
      balance: 'first',
      retries: 0,
    });
    const client = await connect(port);
    await closed(client, 3000);
    await gone(rt);
    expect(await serverStats(rt, 'dead')).toEqual({ econ: 1, wretr: 0, wredis: 0, stot: 1 });
    expect((await serverStats(rt, 'alive')).stot).toBe(0);
  });

  it('retries 3 without redispatch: four attempts on the one server, three retries counted, then closed', async () => {
    const { rt, port } = await deadThenAlive({
      balance: 'first',
      retries: 3,
      redispatch: false,
    });
    const client = await connect(port);
    await closed(client, 3000);
    await gone(rt);
    expect(await serverStats(rt, 'dead')).toEqual({ econ: 4, wretr: 3, wredis: 0, stot: 4 });
    // A live server was there all along: without redispatch it is never tried.
    expect((await serverStats(rt, 'alive')).stot).toBe(0);
    expect((await rt.stats()).backends[0]).toMatchObject({ econ: 4, wretr: 3, wredis: 0 });
  });

  it('retries 3 with redispatch on a hashed balance: the last retry lands on the live server', async () => {
    const { rt, port } = await deadThenAlive({
      balance: 'source',
      retries: 3,
      redispatch: true,
    });
    // Distinct sources: the ones the hash sends to `dead` go through three failures, then to `alive`.
    for (let i = 2; i < 14; i++) {
      const client = await connect(port, { localAddress: `127.0.0.${i}` });
      expect(await readLine(client, 3000)).toBe('alive');
      client.destroy();
    }
    await gone(rt);
    const d = await serverStats(rt, 'dead');
    expect(d.wredis).toBeGreaterThan(0); // at least one source hashed to `dead`
    expect(d).toEqual({ econ: 3 * d.wredis, wretr: 2 * d.wredis, wredis: d.wredis, stot: 3 * d.wredis });
  });

  it('redispatch on a hashed balance: at once when the failures marked the server DOWN', async () => {
    const { rt, port } = await deadThenAlive(
      {
        balance: 'source',
        retries: 3,
        // One active check at start (it fails: 1 of 2), then none for a minute: the next failure, a client's, marks it DOWN.
        check: { type: 'tcp', inter: 60_000, fall: 2, rise: 1 },
      },
      { check: true },
    );
    await waitFor(
      async () =>
        (await serverStats(rt, 'dead')).econ === 0 && (await rt.stats()).backends[0].servers[0].chkfail === 1,
      3000,
      'first check',
    );
    for (let i = 2; i < 10; i++) {
      const client = await connect(port, { localAddress: `127.0.0.${i}` });
      expect(await readLine(client, 3000)).toBe('alive');
      client.destroy();
    }
    // The first client hashed to `dead` failed once, marking it DOWN: its first retry went elsewhere, and no later
    // client was sent there.
    expect(await serverStats(rt, 'dead')).toEqual({ econ: 1, wretr: 0, wredis: 1, stot: 1 });
    expect((await rt.stats()).backends[0].servers[0].health).toBe('DOWN');
  });

  it('redispatch on a balance that is not a hash: the first retry goes to another server at once', async () => {
    const { rt, port } = await deadThenAlive({
      balance: 'first',
      retries: 3,
    });
    const client = await connect(port);
    expect(await readLine(client, 3000)).toBe('alive');
    client.destroy();
    // HAProxy 2.6 on the same backend: wretr 0, wredis 1.
    expect(await serverStats(rt, 'dead')).toEqual({ econ: 1, wretr: 0, wredis: 1, stot: 1 });
  });
});

describe('per-section timeouts', () => {
  it("closes a client idle past its frontend's own timeout client, not the other frontend's", async () => {
    const s1 = await start(named('s1'));
    const [short, long] = [await freePort(), await freePort()];
    const rt = runtime({ sweepIntervalMs: 25 });
    await rt.apply(
      snapshot(
        [frontend('short', short, 'be', { timeouts: { client: 300 } }), frontend('long', long, 'be')],
        [backend('be', [server('s1', s1.port)])],
        { timeouts: { connect: 5000, client: 60_000, server: 60_000, check: 5000 } },
      ),
    );
    const a = await connect(short);
    const b = await connect(long);
    await readLine(a);
    await readLine(b);
    const started = Date.now();
    await closed(a, 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await sleep(300);
    expect(b.readableEnded).toBe(false);
    await waitFor(async () => (await rt.sessions()).length === 1, 3000, 'one session left');
    expect((await rt.sessions()).map((s) => s.frontend)).toEqual(['long']);
    b.destroy();
  });

  it("uses the backend's own timeout server, and its tunnel timeout in place of client and server", async () => {
    const s1 = await start(named('s1'));
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const rt = runtime({ sweepIntervalMs: 25 });
    await rt.apply(
      snapshot(
        [frontend('f1', p1, 'server300'), frontend('f2', p2, 'tunnel300'), frontend('f3', p3, 'plain')],
        [
          backend('server300', [server('s1', s1.port)], { timeouts: { server: 300 } }),
          backend('tunnel300', [server('s1', s1.port)], { timeouts: { tunnel: 300 } }),
          backend('plain', [server('s1', s1.port)]),
        ],
        // A tunnel timeout supersedes client and server, shorter or longer.
        { timeouts: { connect: 5000, client: 60_000, server: 60_000, check: 5000 } },
      ),
    );
    const clients = [await connect(p1), await connect(p2), await connect(p3)];
    for (const c of clients) await readLine(c);
    await closed(clients[0], 3000);
    await closed(clients[1], 3000);
    expect(clients[2].readableEnded).toBe(false);
    await waitFor(async () => (await rt.sessions()).length === 1, 3000, 'one session left');
    expect((await rt.sessions()).map((s) => s.backend)).toEqual(['plain']);
    clients[2].destroy();
  });

  it('a defaults tunnel timeout longer than client and server keeps an idle session open past them', async () => {
    const s1 = await start(named('s1'));
    const port = await freePort();
    const rt = runtime({ sweepIntervalMs: 25 });
    await rt.apply(
      snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])], {
        timeouts: { connect: 5000, client: 200, server: 200, check: 5000, tunnel: 60_000 },
      }),
    );
    const client = await connect(port);
    await readLine(client);
    await sleep(600);
    expect(client.readableEnded).toBe(false);
    expect(await rt.sessions()).toHaveLength(1);
    client.destroy();
  });

  it("times a connect out after the backend's own timeout connect, not the defaults'", async () => {
    const hole = await blackhole();
    defer(() => hole.close());
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('hole', hole.port)], { retries: 0, timeouts: { connect: 200 } })],
        { timeouts: { connect: 30_000, client: 60_000, server: 60_000, check: 5000 } },
      ),
    );
    const started = Date.now();
    const client = await connect(port);
    await closed(client, 5000);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(5000);
    expect(await serverStats(rt, 'hole')).toMatchObject({ econ: 1 });
  });
});
