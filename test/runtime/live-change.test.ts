// Each row of docs/config-model.md's "What a live change does" table, on real sockets, plus 100 applies under traffic.
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/schema/snapshot.js';
import {
  backend,
  connect,
  echo,
  freePort,
  frontend,
  listen,
  readBytes,
  readLine,
  server,
  sleep,
  snapshot,
} from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { defer, runtime, servers, client } = closeAfterEach();

/** The session still relays both ways. */
async function alive(c: Socket, text = 'ping'): Promise<void> {
  c.write(text);
  expect((await readBytes(c, text.length, 2000)).toString()).toBe(text);
}

describe('live changes', () => {
  it('frontend added or enabled: accepted at once', async () => {
    const [s1] = await servers('s1');
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const rt = runtime();
    const base = snapshot(
      [frontend('a', p1, 'be'), frontend('c', p3, 'be', { enabled: false })],
      [backend('be', [server('s1', s1.port)])],
    );
    await rt.apply(base);
    const next = structuredClone(base);
    next.frontends.push(frontend('b', p2, 'be'));
    next.frontends[1].enabled = true;
    await rt.apply(next);
    expect(await readLine(await client(p2))).toBe('s1');
    expect(await readLine(await client(p3))).toBe('s1');
  });

  it('frontend removed, disabled or moved: old listener closed, new one bound, existing sessions kept', async () => {
    const [s1] = await servers('s1');
    const [p1, p2, p3, p3b] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('gone', p1, 'be'), frontend('off', p2, 'be'), frontend('moved', p3, 'be')],
        [backend('be', [server('s1', s1.port)])],
      ),
    );
    const held = await Promise.all([client(p1), client(p2), client(p3)]);
    for (const c of held) expect(await readLine(c)).toBe('s1');
    await rt.apply(
      snapshot(
        [frontend('off', p2, 'be', { enabled: false }), frontend('moved', p3b, 'be')],
        [backend('be', [server('s1', s1.port)])],
      ),
    );
    for (const p of [p1, p2, p3]) await expect(connect(p)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await readLine(await client(p3b))).toBe('s1');
    for (const c of held) await alive(c);
    expect((await rt.sessions()).map((s) => s.frontend).sort()).toEqual(['gone', 'moved', 'moved', 'off']);
  });

  it('a bind handed from one frontend to another in one apply keeps serving', async () => {
    const [s1, s2] = await servers('s1', 's2');
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('old', port, 'b1')],
        [backend('b1', [server('s1', s1.port)]), backend('b2', [server('s2', s2.port)])],
      ),
    );
    const before = await client(port);
    expect(await readLine(before)).toBe('s1');
    await rt.apply(
      snapshot(
        [frontend('new', port, 'b2')],
        [backend('b1', [server('s1', s1.port)]), backend('b2', [server('s2', s2.port)])],
      ),
    );
    expect(await readLine(await client(port))).toBe('s2');
    await alive(before);
  });

  it("frontend's backend changed: new connections go to the new backend, existing ones stay", async () => {
    const [s1, s2] = await servers('s1', 's2');
    const port = await freePort();
    const rt = runtime();
    const backends = [backend('b1', [server('s1', s1.port)]), backend('b2', [server('s2', s2.port)])];
    await rt.apply(snapshot([frontend('fe', port, 'b1')], backends));
    const first = await client(port);
    expect(await readLine(first)).toBe('s1');
    await rt.apply(snapshot([frontend('fe', port, 'b2')], backends));
    expect(await readLine(await client(port))).toBe('s2');
    await alive(first);
  });

  it('server added: eligible at once; with consistent hashing it takes only its share', async () => {
    const [s1, s2, s3] = await servers('s1', 's2', 's3');
    const port = await freePort();
    const rt = runtime();
    const two = snapshot(
      [frontend('fe', port, 'be')],
      [backend('be', [server('s1', s1.port), server('s2', s2.port)], { balance: 'source' })],
    );
    await rt.apply(two);
    const ips = Array.from({ length: 30 }, (_, i) => `127.0.2.${i + 1}`);
    const choose = async () => {
      const out = new Map<string, string>();
      for (const ip of ips) {
        const c = await connect(port, { localAddress: ip });
        out.set(ip, await readLine(c));
        c.destroy();
      }
      return out;
    };
    const before = await choose();
    const held = await client(port, { localAddress: ips[0] });
    await readLine(held);
    const three = structuredClone(two);
    three.backends[0].servers.push(server('s3', s3.port));
    await rt.apply(three);
    const after = await choose();
    const moved = ips.filter((ip) => before.get(ip) !== after.get(ip));
    expect(moved.length).toBeGreaterThan(0);
    // Everyone who moved went to the new server; nobody moved between the old ones.
    for (const ip of moved) expect(after.get(ip)).toBe('s3');
    expect(moved.length).toBeLessThan(ips.length * 0.6);
    await alive(held);
  });

  it('server removed: no longer chosen, its sessions kept until they end or an explicit shutdown', async () => {
    const [s1, s2] = await servers('s1', 's2');
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('s1', s1.port), server('s2', s2.port)], { balance: 'first' })],
      ),
    );
    const onS1 = await client(port);
    expect(await readLine(onS1)).toBe('s1');
    await rt.apply(
      snapshot([frontend('fe', port, 'be')], [backend('be', [server('s2', s2.port)], { balance: 'first' })]),
    );
    expect(await readLine(await client(port))).toBe('s2');
    await alive(onS1);
    expect((await rt.stats()).backends[0].servers.map((s) => s.name)).toEqual(['s2']);
    expect(await rt.shutdownSessions('be', 's1')).toBe(1);
  });

  it('weight, balance and hashType changes apply to the next choice and leave sessions alone', async () => {
    const [s1, s2] = await servers('s1', 's2');
    const port = await freePort();
    const rt = runtime();
    const snap = (overrides: Parameters<typeof backend>[2], w1 = 1, w2 = 1): Snapshot =>
      snapshot(
        [frontend('fe', port, 'be')],
        [
          backend(
            'be',
            [server('s1', s1.port, { weight: w1 }), server('s2', s2.port, { weight: w2 })],
            overrides,
          ),
        ],
      );
    await rt.apply(snap({ balance: 'first' }));
    const held = await client(port);
    expect(await readLine(held)).toBe('s1');
    await rt.apply(snap({ balance: 'first' }, 0, 1));
    expect(await readLine(await client(port))).toBe('s2');
    await rt.apply(snap({ balance: 'roundrobin' }, 1, 3));
    const picks: string[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await connect(port);
      picks.push(await readLine(c));
      c.destroy();
    }
    expect(picks.filter((p) => p === 's2')).toHaveLength(6);
    await rt.apply(snap({ balance: 'source', hashType: 'map-based' }));
    const a = await connect(port, { localAddress: '127.0.3.1' });
    const first = await readLine(a);
    a.destroy();
    const b = await connect(port, { localAddress: '127.0.3.1' });
    expect(await readLine(b)).toBe(first);
    b.destroy();
    await alive(held);
  });

  it('two runtimes given the same snapshot choose the same server for the same client', async () => {
    const [s1, s2, s3] = await servers('s1', 's2', 's3');
    const [pa, pb] = [await freePort(), await freePort()];
    const be = backend('be', [server('s1', s1.port), server('s2', s2.port), server('s3', s3.port)], {
      balance: 'source',
    });
    const a = runtime();
    const b = runtime();
    await a.apply(snapshot([frontend('fe', pa, 'be')], [be]));
    await b.apply(snapshot([frontend('fe', pb, 'be')], [be]));
    for (let i = 1; i <= 12; i++) {
      const ip = `127.0.4.${i}`;
      const ca = await connect(pa, { localAddress: ip });
      const cb = await connect(pb, { localAddress: ip });
      expect(await readLine(cb)).toBe(await readLine(ca));
      ca.destroy();
      cb.destroy();
    }
  });

  it('keeps every connection and every byte across 100 applies made while traffic flows', async () => {
    const echoes = await Promise.all([listen(echo), listen(echo), listen(echo)]);
    for (const e of echoes) defer(() => e.close());
    const [port, spare] = [await freePort(), await freePort()];
    const rt = runtime();
    const snap = (i: number): Snapshot => {
      const s = snapshot(
        [frontend('fe', port, 'be')],
        [
          backend(
            'be',
            echoes
              .slice(0, 2 + (i % 2))
              .map((e, j) => server(`e${j}`, e.port, { weight: 1 + ((i + j) % 5) })),
            {
              balance: (['roundrobin', 'leastconn', 'source', 'first'] as const)[i % 4],
              hashType: i % 3 === 0 ? 'map-based' : 'consistent',
            },
          ),
        ],
      );
      if (i % 2 === 0) s.frontends.push(frontend('spare', spare, 'be', { enabled: i % 4 === 0 }));
      return s;
    };
    await rt.apply(snap(0));
    const clients = await Promise.all(Array.from({ length: 8 }, () => connect(port)));
    let stop = false;
    const traffic = clients.map(async (c, k) => {
      const sent = createHash('sha256');
      const got = createHash('sha256');
      let total = 0;
      let n = 0;
      while (!stop && n < 10_000) {
        const chunk = Buffer.alloc(1000 + ((k * 977 + n * 131) % 30_000), (k * 7 + n) & 0xff);
        chunk.writeUInt32BE(n, 0);
        sent.update(chunk);
        const answer = readBytes(c, chunk.length, 5000);
        c.write(chunk);
        got.update(await answer);
        total += chunk.length;
        n++;
      }
      return { sent: sent.digest('hex'), got: got.digest('hex'), total };
    });
    for (let i = 1; i <= 100; i++) {
      await rt.apply(snap(i));
      await sleep(2);
    }
    stop = true;
    const results = await Promise.all(traffic);
    for (const r of results) {
      expect(r.got).toBe(r.sent);
      expect(r.total).toBeGreaterThan(0);
    }
    expect((await rt.sessions()).length).toBe(8);
    const stats = await rt.stats();
    expect(stats.frontends.find((f) => f.name === 'fe')).toMatchObject({ scur: 8, stot: 8 });
    for (const c of clients) c.destroy();
  });
});
