// The relay and the admin surface on real loopback sockets.
import { describe, expect, it } from 'vitest';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { RuntimeError } from '../../src/runtime/errors.js';
import type { RuntimeEvent } from '../../src/runtime/types.js';
import {
  backend,
  closed,
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
  waitFor,
} from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';
import { testNodeInternals } from '../helpers/internals.js';

const { defer, runtime, servers } = closeAfterEach();

describe('relay', () => {
  it('relays bytes both ways and counts them per frontend, backend and server', async () => {
    const [s1] = await servers('s1');
    const port = await freePort();
    const rt = runtime();
    await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]));
    const client = await connect(port);
    expect(await readLine(client)).toBe('s1');
    client.write('hello');
    expect((await readBytes(client, 5)).toString()).toBe('hello');

    const sessions = await rt.sessions();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      frontend: 'fe',
      backend: 'be',
      server: 's1',
      clientAddress: '127.0.0.1',
      state: 'established',
    });
    expect(sessions[0].bytesIn).toBe(5);
    expect(sessions[0].bytesOut).toBe(8);

    const stats = await rt.stats();
    expect(stats.frontends[0]).toMatchObject({
      name: 'fe',
      status: 'OPEN',
      scur: 1,
      stot: 1,
      bin: 5,
      bout: 8,
    });
    expect(stats.backends[0]).toMatchObject({
      name: 'be',
      scur: 1,
      stot: 1,
      bin: 5,
      bout: 8,
      lbtot: 1,
      act: 1,
    });
    expect(stats.backends[0].servers[0]).toMatchObject({
      name: 's1',
      scur: 1,
      stot: 1,
      bin: 5,
      bout: 8,
      status: 'no check',
    });

    client.end();
    await closed(client);
    await waitFor(async () => (await rt.stats()).frontends[0].scur === 0, 2000, 'session end');
    const after = await rt.stats();
    expect(after.frontends[0]).toMatchObject({ scur: 0, stot: 1, smax: 1, bin: 5, bout: 8 });
    expect(after.backends[0].servers[0]).toMatchObject({ scur: 0, stot: 1, bin: 5, bout: 8 });
  });

  it('closes a client at once and counts it when no server is usable', async () => {
    const [s1] = await servers('s1');
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port, { weight: 0 })])]),
    );
    const client = await connect(port);
    const started = Date.now();
    await closed(client, 2000);
    expect(Date.now() - started).toBeLessThan(1000);
    const stats = await rt.stats();
    expect(stats.frontends[0].noServer).toBe(1);
    expect(stats.backends[0].status).toBe('DOWN');
    expect(s1.accepted).toHaveLength(0);
  });

  it('uses backup servers only when no active server is usable', async () => {
    const [a, b] = await servers('active', 'backup');
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('active', a.port), server('backup', b.port, { backup: true })])],
      ),
    );
    const c1 = await connect(port);
    expect(await readLine(c1)).toBe('active');
    await rt.setServerState('be', 'active', 'drain');
    const c2 = await connect(port);
    expect(await readLine(c2)).toBe('backup');
    c1.destroy();
    c2.destroy();
  });

  it('sets admin states, keeps drained sessions, cuts them on maint with shutdown, and emits events', async () => {
    const [s1, s2] = await servers('s1', 's2');
    const port = await freePort();
    const rt = runtime();
    const events: RuntimeEvent[] = [];
    rt.onEvent((e) => events.push(e));
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('s1', s1.port), server('s2', s2.port)], { balance: 'first' })],
      ),
    );
    const c1 = await connect(port);
    expect(await readLine(c1)).toBe('s1');

    const drained = await rt.setServerState('be', 's1', 'drain');
    expect(drained).toEqual({
      backend: 'be',
      server: 's1',
      previous: 'ready',
      state: 'drain',
      sessionsClosed: 0,
    });
    const c2 = await connect(port);
    expect(await readLine(c2)).toBe('s2');
    // The drained server's session still relays.
    c1.write('still here');
    expect((await readBytes(c1, 10)).toString()).toBe('still here');
    expect((await rt.stats()).backends[0].servers[0].status).toBe('DRAIN');

    const maint = await rt.setServerState('be', 's1', 'maint', { shutdownSessions: true });
    expect(maint).toMatchObject({ previous: 'drain', state: 'maint', sessionsClosed: 1 });
    await closed(c1);
    expect((await rt.stats()).backends[0].servers[0].status).toBe('MAINT');
    expect(events.filter((e) => e.type === 'admin-state').map((e) => (e as { to: string }).to)).toEqual([
      'drain',
      'maint',
    ]);
    expect(events.some((e) => e.type === 'sessions-closed' && e.count === 1)).toBe(true);

    await expect(rt.setServerState('nope', 's1', 'ready')).rejects.toMatchObject({ code: 'UNKNOWN_BACKEND' });
    await expect(rt.setServerState('be', 'nope', 'ready')).rejects.toMatchObject({ code: 'UNKNOWN_SERVER' });
    await expect(rt.shutdownSessions('be', 'nope')).rejects.toBeInstanceOf(RuntimeError);
    c2.destroy();
  });

  it('shuts down sessions of a server or a backend, and kills one session by id', async () => {
    const [s1, s2] = await servers('s1', 's2');
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port), server('s2', s2.port)])]),
    );
    const clients = await Promise.all([1, 2, 3, 4].map(() => connect(port)));
    const names = await Promise.all(clients.map((c) => readLine(c)));
    expect(names.sort()).toEqual(['s1', 's1', 's2', 's2']);
    expect(await rt.shutdownSessions('be', 's1')).toBe(2);
    await waitFor(async () => (await rt.sessions()).length === 2, 2000, 'two sessions left');
    const [first] = await rt.sessions();
    expect(await rt.killSession(first.id)).toBe(true);
    expect(await rt.killSession('no-such-id')).toBe(false);
    await waitFor(async () => (await rt.sessions()).length === 1, 2000, 'one session left');
    expect(await rt.shutdownSessions('be')).toBe(1);
    await Promise.all(clients.map((c) => closed(c)));
  });

  it('close() stops listeners and sessions and reports how many it closed', async () => {
    const [s1] = await servers('s1');
    const port = await freePort();
    const rt = new ProxyRuntime({ nodeInternals: testNodeInternals });
    await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]));
    const c1 = await connect(port);
    const c2 = await connect(port);
    await readLine(c1);
    await readLine(c2);
    expect(await rt.close()).toBe(2);
    await closed(c1);
    await closed(c2);
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(rt.apply(snapshot([], []))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('relays many concurrent sessions through an echo server without mixing bytes', async () => {
    const echoServer = await listen(echo);
    defer(() => echoServer.close());
    const port = await freePort();
    const rt = runtime();
    await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('e', echoServer.port)])]));
    const clients = await Promise.all(Array.from({ length: 50 }, () => connect(port)));
    const payloads = clients.map((_, i) => Buffer.alloc(20_000, i));
    const answers = clients.map((c, i) => readBytes(c, payloads[i].length));
    clients.forEach((c, i) => c.write(payloads[i]));
    const got = await Promise.all(answers);
    got.forEach((g, i) => expect(g.equals(payloads[i])).toBe(true));
    for (const c of clients) c.destroy();
    await sleep(10);
  });
});

describe('cmpp-account balancing', () => {
  function cmppConnect(account: string): Buffer {
    const b = Buffer.alloc(39);
    b.writeUInt32BE(39, 0);
    b.writeUInt32BE(1, 4);
    b.writeUInt32BE(1, 8);
    b.write(account, 12, 'latin1');
    b[34] = 0x30;
    return b;
  }

  it('sends every connection of one SP account to the same server whatever its source IP', async () => {
    const targets = await servers('s1', 's2', 's3');
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [
          backend(
            'be',
            targets.map((s, i) => server(`s${i + 1}`, s.port)),
            { balance: 'cmpp-account' },
          ),
        ],
      ),
    );
    for (const account of ['900001', '900002', '123456']) {
      const picks = new Set<string>();
      for (let i = 1; i <= 5; i++) {
        const c = await connect(port, { localAddress: `127.0.5.${i}` });
        c.write(cmppConnect(account));
        // The name line, then the CONNECT itself echoed back intact.
        const got = await readBytes(c, 3 + 39);
        picks.add(got.subarray(0, 2).toString());
        expect(got.subarray(3).equals(cmppConnect(account))).toBe(true);
        c.destroy();
      }
      expect(picks.size).toBe(1);
    }
  });
});
