// Connecting to servers: retry on refusal and timeout with buffered client bytes, passive health,
// idle timeouts and half-close.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  backend,
  blackhole,
  closed,
  connect,
  echo,
  freePort,
  frontend,
  readBytes,
  server,
  sleep,
  snapshot,
  waitFor,
} from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { defer, runtime, start } = closeAfterEach();

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('connecting to servers', () => {
  it('retries a refused connect on another server and delivers the bytes sent meanwhile', async () => {
    const alive = await start(echo);
    const deadPort = await freePort();
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('dead', deadPort), server('alive', alive.port)], { balance: 'first' })],
      ),
    );
    const client = await connect(port);
    const payload = Buffer.from('sent before the server connection exists');
    client.write(payload);
    expect((await readBytes(client, payload.length)).equals(payload)).toBe(true);
    const [dead, live] = (await rt.stats()).backends[0].servers;
    // As HAProxy 2.6 counts it: a retry on another server is a redispatch, not a retry.
    expect(dead).toMatchObject({ econ: 1, wretr: 0, wredis: 1, scur: 0 });
    expect(live).toMatchObject({ scur: 1, stot: 1 });
    expect((await rt.stats()).backends[0]).toMatchObject({ econ: 1, wretr: 0, wredis: 1 });
    client.destroy();
  });

  it('times out a connect after defaults.timeouts.connect and retries elsewhere without losing 1 MB of early bytes', async () => {
    const hole = await blackhole();
    defer(() => hole.close());
    const alive = await start(echo);
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('hole', hole.port), server('alive', alive.port)], { balance: 'first' })],
        { timeouts: { connect: 200, client: 3_600_000, server: 3_600_000, check: 5000 } },
      ),
    );
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 9)) & 0xff;
    // The proxy starts its connect to the hole as soon as it accepts, so the clock starts before connecting.
    const started = Date.now();
    const client = await connect(port);
    const answer = readBytes(client, payload.length, 10_000);
    client.write(payload);
    const got = await answer;
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(sha(got)).toBe(sha(payload));
    expect((await rt.stats()).backends[0].servers[0]).toMatchObject({ econ: 1, wretr: 0, wredis: 1 });
    client.destroy();
  });

  it('gives up after one retry: the client is closed and both failures are counted', async () => {
    const [d1, d2] = [await freePort(), await freePort()];
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot([frontend('fe', port, 'be')], [backend('be', [server('d1', d1), server('d2', d2)])]),
    );
    const client = await connect(port);
    await closed(client, 2000);
    await waitFor(async () => (await rt.sessions()).length === 0, 2000, 'session gone');
    const stats = await rt.stats();
    expect(stats.backends[0].econ).toBe(2);
    expect(stats.backends[0].servers.map((s) => s.econ)).toEqual([1, 1]);
  });

  it('feeds connect errors to the server health check as passive failures', async () => {
    const deadPort = await freePort();
    const alive = await start(echo);
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [
          backend('be', [server('dead', deadPort, { check: true }), server('alive', alive.port)], {
            balance: 'first',
            // One active check at start, then none for a minute: only passive results can add up.
            check: { type: 'tcp', inter: 60_000, fall: 3, rise: 2 },
          }),
        ],
      ),
    );
    await waitFor(async () => (await rt.stats()).backends[0].servers[0].chkfail === 1, 2000, 'first check');
    expect((await rt.stats()).backends[0].servers[0].status).toBe('UP 1/3');
    for (let i = 0; i < 2; i++) {
      const c = await connect(port);
      c.write('x');
      await readBytes(c, 1);
      c.destroy();
    }
    const dead = (await rt.stats()).backends[0].servers[0];
    expect(dead).toMatchObject({ health: 'DOWN', status: 'DOWN', chkfail: 3, chkdown: 1, econ: 2 });
  });
});

describe('idle timeouts', () => {
  it('closes sessions idle longer than the client/server timeout, keeps active ones', async () => {
    const s1 = await start(echo);
    const port = await freePort();
    const rt = runtime({ sweepIntervalMs: 25 });
    await rt.apply(
      snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])], {
        timeouts: { connect: 5000, client: 300, server: 300, check: 5000 },
      }),
    );
    const idle = await connect(port);
    const busy = await connect(port);
    const started = Date.now();
    const idleClosedAfter = closed(idle, 2000).then(() => Date.now() - started);
    for (let i = 0; i < 12; i++) {
      busy.write('p');
      await readBytes(busy, 1);
      await sleep(100);
    }
    const idleFor = await idleClosedAfter;
    expect(idleFor).toBeGreaterThanOrEqual(280);
    expect(idleFor).toBeLessThan(1000); // timeout 300 + sweep 25, with room for a slow CI machine
    // The busy one outlived the timeout more than three times over.
    expect(busy.readableEnded).toBe(false);
    expect((await rt.sessions()).length).toBe(1);
    busy.destroy();
  });

  it('counts traffic from the server side as activity', async () => {
    const ticker = await start((socket) => {
      const timer = setInterval(() => socket.write('t'), 80);
      socket.on('close', () => clearInterval(timer));
    });
    const port = await freePort();
    const rt = runtime({ sweepIntervalMs: 25 });
    await rt.apply(
      snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', ticker.port)])], {
        timeouts: { connect: 5000, client: 300, server: 300, check: 5000 },
      }),
    );
    const client = await connect(port);
    const got = await readBytes(client, 10, 3000);
    expect(got.length).toBe(10);
    expect(client.readableEnded).toBe(false);
    client.destroy();
  });
});

describe('half-close', () => {
  it('delivers the whole response to a client that wrote and then ended', async () => {
    const response = Buffer.alloc(300_000, 7);
    const s1 = await start((socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c) => chunks.push(c));
      socket.on('end', async () => {
        // Answer only after the client's FIN arrived, in pieces, with pauses.
        expect(Buffer.concat(chunks).toString()).toBe('request');
        for (let i = 0; i < 3; i++) {
          socket.write(response.subarray(i * 100_000, (i + 1) * 100_000));
          await sleep(30);
        }
        socket.end();
      });
    });
    const port = await freePort();
    const rt = runtime();
    await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]));
    const client = await connect(port);
    client.end('request');
    const got = await closed(client, 5000);
    expect(got.length).toBe(response.length);
    expect(got.equals(response)).toBe(true);
    await waitFor(async () => (await rt.sessions()).length === 0, 2000, 'session closed');
  });

  it('propagates a server-side end while the client keeps sending', async () => {
    let received = '';
    let gotAll: () => void = () => {};
    const allArrived = new Promise<void>((resolve) => (gotAll = resolve));
    const s1 = await start((socket) => {
      socket.end('bye');
      socket.on('data', (c) => {
        received += c.toString();
        if (received === 'after-end') gotAll();
      });
    });
    const port = await freePort();
    const rt = runtime();
    await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]));
    const client = await connect(port);
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    let hello = '';
    client.on('data', (c) => (hello += c.toString()));
    await ended;
    expect(hello).toBe('bye');
    client.write('after-');
    await sleep(20);
    client.write('end');
    await allArrived;
    client.end();
    await waitFor(async () => (await rt.sessions()).length === 0, 2000, 'session closed');
  });
});
