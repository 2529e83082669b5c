// Listeners: enabled, maxconn (kernel backlog or held, on each pause path), allow-lists, bind failures and atomic apply.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { bindRawHandle, selfTestAcceptPause } from '../../src/runtime/node-internals.js';
import type { RuntimeEvent, RuntimeStats } from '../../src/runtime/types.js';
import {
  backend,
  closed,
  connect,
  echo,
  freePort,
  frontend,
  loopBarrier,
  named,
  readBytes,
  readLine,
  server,
  snapshot,
  waitFor,
} from '../helpers/net.js';
import { testNodeInternals } from '../helpers/internals.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { defer, runtime, start } = closeAfterEach();

/** Stats without the fields that move with the clock. */
function stable(stats: RuntimeStats): unknown {
  return JSON.parse(JSON.stringify({ ...stats, at: 0, uptime: 0 }), (key, value: unknown) =>
    ['oldestSessionAge', 'lastchg', 'rate', 'lastChangeAt'].includes(key) ? 0 : value,
  );
}

describe('listeners', () => {
  it('binds enabled frontends only and reports disabled ones as STOP', async () => {
    const s1 = await start(named('s1'));
    const [p1, p2] = [await freePort(), await freePort()];
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('on', p1, 'be'), frontend('off', p2, 'be', { enabled: false })],
        [backend('be', [server('s1', s1.port)])],
      ),
    );
    const client = await connect(p1);
    expect(await readLine(client)).toBe('s1');
    await expect(connect(p2)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const stats = await rt.stats();
    expect(stats.frontends.map((f) => [f.name, f.status])).toEqual([
      ['on', 'OPEN'],
      ['off', 'STOP'],
    ]);
    client.destroy();
  });

  it('binds to 0.0.0.0 and :: and reaches the backend from IPv4 and IPv6 clients', async () => {
    const s1 = await start(named('s1'));
    const [p4, p6] = [await freePort(), await freePort('::1')];
    const rt = runtime();
    await rt.apply(
      snapshot(
        [
          frontend('any4', p4, 'be', { bind: { address: '0.0.0.0', port: p4 } }),
          frontend('any6', p6, 'be', { bind: { address: '::', port: p6 } }),
        ],
        [backend('be', [server('s1', s1.port)])],
      ),
    );
    const c4 = await connect(p4);
    expect(await readLine(c4)).toBe('s1');
    const c6 = await connect(p6, { host: '::1' });
    expect(await readLine(c6)).toBe('s1');
    const via4on6 = await connect(p6, { host: '127.0.0.1' });
    expect(await readLine(via4on6)).toBe('s1');
    const clients = (await rt.sessions()).map((s) => s.clientAddress).sort();
    // IPv4-mapped addresses are unwrapped.
    expect(clients).toEqual(['127.0.0.1', '127.0.0.1', '::1']);
    for (const c of [c4, c6, via4on6]) c.destroy();
  });

  // Both ways a listener at its limit stops taking clients (docs/runtime-hot-path.md, "Node internals"):
  // readstop (private, self-tested) leaves them in the kernel's queue; hold (public, and what
  // TETHER_NODE_INTERNALS=off forces) accepts them and holds them unread. Each run asserts its path.
  describe.each([
    { pause: 'readstop', nodeInternals: true },
    { pause: 'hold', nodeInternals: false },
  ] as const)('at the limit, pause path $pause', ({ pause, nodeInternals }) => {
    it('holds connections over frontend maxconn and serves them when a slot frees', async () => {
      const s1 = await start(echo);
      const [port, other] = [await freePort(), await freePort()];
      const rt = runtime({ nodeInternals });
      await rt.apply(
        snapshot(
          [frontend('fe', port, 'be', { maxconn: 2 }), frontend('other', other, 'be')],
          [backend('be', [server('s1', s1.port)])],
        ),
      );
      const paths = await rt.listenerPaths();
      expect(paths.pause).toBe(pause);
      expect(paths.listeners.map((l) => [l.frontend, l.pause])).toEqual([
        ['fe', pause],
        ['other', pause],
      ]);
      const a = await connect(port);
      const b = await connect(port);
      await waitFor(async () => (await rt.stats()).frontends[0].scur === 2, 2000, 'two sessions');
      // The third completes the TCP handshake (kernel backlog) but is not served yet.
      const c = await connect(port);
      c.write('queued bytes');
      // Positive evidence instead of a quiet wait: a client that came later, on another frontend of the
      // same runtime, made it all the way through to the backend and back.
      const later = await connect(other);
      later.write('later');
      expect((await readBytes(later, 5)).toString()).toBe('later');
      let stats = await rt.stats();
      expect(stats.frontends[0]).toMatchObject({ scur: 2, stot: 2, slim: 2 });
      // Where the third one waits tells the path apart: in the kernel, or accepted and held.
      const [fe] = (await rt.listenerPaths()).listeners;
      expect(fe).toMatchObject({ frontend: 'fe', pause, held: pause === 'hold' ? 1 : 0 });
      expect(s1.accepted).toHaveLength(3);
      a.destroy();
      expect((await readBytes(c, 12)).toString()).toBe('queued bytes');
      stats = await rt.stats();
      expect(stats.frontends[0]).toMatchObject({ scur: 2, stot: 3, smax: 2 });
      for (const client of [b, c, later]) client.destroy();
    });

    it('stops at the descriptor budget as at maxconn, counts it once as EMFILE, serves the waiting one when a slot frees', async () => {
      const s1 = await start(echo);
      const port = await freePort();
      const lines: string[] = [];
      const rt = runtime({ nodeInternals, sessionBudget: 2, log: (_level, line) => lines.push(line) });
      await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]));
      const a = await connect(port);
      const b = await connect(port);
      await waitFor(async () => (await rt.stats()).frontends[0].scur === 2, 2000, 'two sessions');
      const c = await connect(port);
      c.write('waits');
      const stats = await rt.stats();
      expect(stats.frontends[0]).toMatchObject({ scur: 2, stot: 2 });
      expect(stats.acceptErrors).toMatchObject({ errors: 1, pauses: 1, lastCode: 'EMFILE' });
      expect(lines.filter((l) => l.startsWith('out of file descriptors: EMFILE ahead'))).toHaveLength(1);
      a.destroy();
      expect((await readBytes(c, 5)).toString()).toBe('waits');
      expect((await rt.stats()).frontends[0]).toMatchObject({ scur: 2, stot: 3 });
      for (const client of [b, c]) client.destroy();
    });

    if (pause === 'hold') {
      it('holds at most maxHeldPerListener connections; past it a client is closed, not queued', async () => {
        const s1 = await start(echo);
        const port = await freePort();
        const rt = runtime({ nodeInternals, maxHeldPerListener: 2 });
        await rt.apply(
          snapshot([frontend('fe', port, 'be', { maxconn: 1 })], [backend('be', [server('s1', s1.port)])]),
        );
        const served = await connect(port);
        await waitFor(async () => (await rt.stats()).frontends[0].scur === 1, 2000, 'one session');
        const held = [await connect(port), await connect(port)];
        await waitFor(async () => (await rt.listenerPaths()).listeners[0].held === 2, 2000, 'two held');
        const refused = await connect(port);
        await closed(refused);
        expect((await rt.listenerPaths()).listeners[0].held).toBe(2);
        // The held ones are still served in turn when a slot frees.
        served.destroy();
        held[0].write('first');
        expect((await readBytes(held[0], 5)).toString()).toBe('first');
        for (const client of held) client.destroy();
      });
    }

    it('applies defaults.maxconn as a global cap across frontends', async () => {
      const s1 = await start(echo);
      const [p1, p2] = [await freePort(), await freePort()];
      const rt = runtime({ nodeInternals });
      await rt.apply(
        snapshot(
          [frontend('f1', p1, 'be'), frontend('f2', p2, 'be')],
          [backend('be', [server('s1', s1.port)])],
          { maxconn: 1 },
        ),
      );
      expect((await rt.listenerPaths()).listeners.map((l) => l.pause)).toEqual([pause, pause]);
      const a = await connect(p1);
      await waitFor(async () => (await rt.stats()).frontends[0].scur === 1, 2000, 'one session');
      const b = await connect(p2);
      b.write('hi');
      // Every listener of the runtime is paused: the evidence is a round trip through another server.
      await loopBarrier();
      expect((await rt.stats()).frontends[1].stot).toBe(0);
      a.destroy();
      expect((await readBytes(b, 2)).toString()).toBe('hi');
      expect((await rt.stats()).frontends[1].stot).toBe(1);
      b.destroy();
    });
  });

  it('runs the suite on the paths this run is for (vitest project runtime-public-paths: all public)', async () => {
    const paths = await runtime().listenerPaths();
    expect([paths.pause, paths.accept, paths.write]).toEqual(
      testNodeInternals ? ['readstop', 'onread', 'handle'] : ['hold', 'public', 'stream'],
    );
    expect(testNodeInternals).toBe(process.env.TETHER_NODE_INTERNALS !== 'off');
  });

  it('self-tests the private paths at start and reports them; internals off reports the public ones', async () => {
    const rt = runtime({ nodeInternals: true });
    expect(await rt.listenerPaths()).toEqual({
      pause: 'readstop',
      pauseReason: 'self-test passed',
      accept: 'onread',
      acceptReason: 'self-test passed',
      write: 'handle',
      writeReason: 'self-test passed',
      node: process.version,
      listeners: [],
    });
    expect(await selfTestAcceptPause()).toBeNull();
    // The return codes are checked: a handle bound without open() can't stop being polled, and says so.
    const withoutOpen: typeof bindRawHandle = (binding, address, port) => {
      const handle = new binding.TCP(binding.constants.SERVER);
      return { handle, bindError: handle.bind(address, port), openError: 0 };
    };
    expect(await selfTestAcceptPause(withoutOpen)).toBe('readStart() -> ENOTCONN');
    // A failed open() is reported as such.
    const openFails: typeof bindRawHandle = (binding, address, port, ipv6) => ({
      ...bindRawHandle(binding, address, port, ipv6),
      openError: -9,
    });
    expect(await selfTestAcceptPause(openFails)).toBe('open() -> EBADF');
    const off = runtime({ nodeInternals: false });
    expect(await off.listenerPaths()).toMatchObject({
      pause: 'hold',
      accept: 'public',
      write: 'stream',
      pauseReason: expect.stringContaining('TETHER_NODE_INTERNALS=off'),
      writeReason: expect.stringContaining('TETHER_NODE_INTERNALS=off'),
    });
  });

  it('closes clients outside the allow-list at once and counts them as denied', async () => {
    const s1 = await start(named('s1'));
    const port = await freePort();
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be', { allow: ['127.0.0.2/32', '127.0.1.0/24'] })],
        [backend('be', [server('s1', s1.port)])],
      ),
    );
    const allowed = await connect(port, { localAddress: '127.0.0.2' });
    expect(await readLine(allowed)).toBe('s1');
    const allowed2 = await connect(port, { localAddress: '127.0.1.9' });
    expect(await readLine(allowed2)).toBe('s1');
    const denied = await connect(port, { localAddress: '127.0.0.3' });
    expect((await closed(denied, 1000)).length).toBe(0);
    const stats = await rt.stats();
    expect(stats.frontends[0]).toMatchObject({ denied: 1, stot: 2 });
    expect(s1.accepted).toHaveLength(2);

    // An allow-list change applies to the next connection.
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be', { allow: ['127.0.0.3'] })],
        [backend('be', [server('s1', s1.port)])],
      ),
    );
    const nowAllowed = await connect(port, { localAddress: '127.0.0.3' });
    expect(await readLine(nowAllowed)).toBe('s1');
    // The already-established sessions were not cut.
    allowed.write('x');
    expect((await readBytes(allowed, 1)).toString()).toBe('x');
    for (const c of [allowed, allowed2, nowAllowed]) c.destroy();
  });

  it('matches IPv6 allow-lists and IPv4 clients on a dual-stack listener', async () => {
    const s1 = await start(named('s1'));
    const port = await freePort('::1');
    const rt = runtime();
    await rt.apply(
      snapshot(
        [frontend('fe', port, 'be', { bind: { address: '::', port }, allow: ['::1/128'] })],
        [backend('be', [server('s1', s1.port)])],
      ),
    );
    const v6 = await connect(port, { host: '::1' });
    expect(await readLine(v6)).toBe('s1');
    const v4 = await connect(port, { host: '127.0.0.1' });
    await closed(v4, 1000);
    expect((await rt.stats()).frontends[0].denied).toBe(1);
    v6.destroy();
  });

  it('fails atomically when a port is taken: BIND_FAILED naming the frontend, old listeners serve, stats unchanged', async () => {
    const s1 = await start(named('s1'));
    const [p1, taken] = [await freePort(), await freePort()];
    const squatter = net.createServer();
    await new Promise<void>((resolve) =>
      squatter.listen({ host: '127.0.0.1', port: taken }, () => resolve()),
    );
    defer(() => new Promise((resolve) => squatter.close(resolve)));
    const rt = runtime();
    const good = snapshot([frontend('fe', p1, 'be')], [backend('be', [server('s1', s1.port)])]);
    await rt.apply(good);
    const c1 = await connect(p1);
    expect(await readLine(c1)).toBe('s1');
    const before = await rt.stats();
    const p3 = await freePort();

    const bad = snapshot(
      [frontend('fe', p1, 'be'), frontend('fresh', p3, 'be'), frontend('clash', taken, 'be')],
      [backend('be', [server('s1', s1.port, { weight: 5 })])],
    );
    const error = await rt.apply(bad).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'BIND_FAILED',
      subject: { frontend: 'clash' },
      cause_code: 'EADDRINUSE',
    });
    expect((error as Error).message).toContain('clash');
    expect((error as Error).message).toContain('EADDRINUSE');
    // The listener bound for "fresh" in the failed apply was closed again.
    await expect(connect(p3)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const after = await rt.stats();
    expect(after.frontends.map((f) => f.name)).toEqual(['fe']);
    expect(after.backends[0].servers[0].weight).toBe(1);
    expect(stable(after)).toEqual(stable(before));
    // Old listener and session still serve.
    c1.write('ok');
    expect((await readBytes(c1, 2)).toString()).toBe('ok');
    const c2 = await connect(p1);
    expect(await readLine(c2)).toBe('s1');
    c1.destroy();
    c2.destroy();
  });

  it('surfaces an unassignable address as BIND_FAILED EADDRNOTAVAIL', async () => {
    const s1 = await start(named('s1'));
    const rt = runtime();
    const error = await rt
      .apply(
        snapshot(
          [frontend('far', 4444, 'be', { bind: { address: '192.0.2.1', port: 4444 } })],
          [backend('be', [server('s1', s1.port)])],
        ),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'BIND_FAILED',
      subject: { frontend: 'far' },
      cause_code: 'EADDRNOTAVAIL',
    });
  });

  it('rejects an invalid snapshot naming the field, changing nothing', async () => {
    const s1 = await start(named('s1'));
    const port = await freePort();
    const rt = runtime();
    await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]));
    const bad = snapshot([frontend('fe', port, 'missing')], [backend('be', [server('s1', s1.port)])]);
    await expect(rt.apply(bad)).rejects.toMatchObject({
      code: 'INVALID_SNAPSHOT',
      subject: { field: 'frontends[0].backend' },
    });
    const dns = snapshot(
      [frontend('fe', port, 'be')],
      [backend('be', [server('s1', s1.port, { address: 'nothing.invalid' })])],
    );
    await expect(rt.apply(dns)).rejects.toMatchObject({
      code: 'INVALID_SNAPSHOT',
      cause_code: 'ENOTFOUND',
      subject: { field: 'backends[0].servers[0].address' },
    });
    const c = await connect(port);
    expect(await readLine(c)).toBe('s1');
    c.destroy();
  });

  it('with tolerateBindErrors serves the frontends that bound and reports the others as FAILED', async () => {
    const s1 = await start(named('s1'));
    const [p1, taken] = [await freePort(), await freePort()];
    const squatter = net.createServer();
    await new Promise<void>((resolve) =>
      squatter.listen({ host: '127.0.0.1', port: taken }, () => resolve()),
    );
    const rt = runtime();
    const events: RuntimeEvent[] = [];
    rt.onEvent((e) => events.push(e));
    const snap = snapshot(
      [frontend('ok', p1, 'be'), frontend('clash', taken, 'be')],
      [backend('be', [server('s1', s1.port)])],
    );
    const result = await rt.apply(snap, { tolerateBindErrors: true });
    expect(result.failedFrontends).toEqual([
      expect.objectContaining({ frontend: 'clash', code: 'EADDRINUSE' }),
    ]);
    expect(events).toEqual([
      expect.objectContaining({ type: 'frontend-error', frontend: 'clash', code: 'EADDRINUSE' }),
    ]);
    const c = await connect(p1);
    expect(await readLine(c)).toBe('s1');
    const stats = await rt.stats();
    expect(stats.frontends.find((f) => f.name === 'clash')).toMatchObject({
      status: 'FAILED',
      error: { code: 'EADDRINUSE' },
    });

    // Once the port is free, the next apply binds it.
    await new Promise((resolve) => squatter.close(resolve));
    expect((await rt.apply(snap)).failedFrontends).toEqual([]);
    const c2 = await connect(taken);
    expect(await readLine(c2)).toBe('s1');
    expect((await rt.stats()).frontends.find((f) => f.name === 'clash')).toMatchObject({ status: 'OPEN' });
    c.destroy();
    c2.destroy();
  });
});
