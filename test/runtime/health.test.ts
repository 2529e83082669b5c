// Health checks wired into the runtime: fall/rise, events, onMarkedDown, maint, reconciliation.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/schema/snapshot.js';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import type { RuntimeEvent, ServerStats } from '../../src/runtime/types.js';
import {
  backend,
  closed,
  connect,
  freePort,
  frontend,
  named,
  readBytes,
  readLine,
  server,
  sleep,
  snapshot,
  waitFor,
} from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { defer, runtime } = closeAfterEach();

/** A named server on a fixed port that can stop listening (keeping its connections) and start again. */
class FlakyServer {
  private server: net.Server | null = null;
  readonly sockets = new Set<net.Socket>();
  constructor(
    readonly name: string,
    readonly port: number,
  ) {}

  async up(): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => this.sockets.delete(socket));
      named(this.name)(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.port }, () => resolve());
    });
    this.server = server;
  }

  /** Stops listening; established connections stay. */
  down(): void {
    this.server?.close();
    this.server = null;
  }

  destroy(): void {
    this.down();
    for (const s of this.sockets) s.destroy();
  }
}

async function flaky(name: string): Promise<FlakyServer> {
  const s = new FlakyServer(name, await freePort());
  await s.up();
  defer(() => s.destroy());
  return s;
}

const fast = { type: 'tcp' as const, inter: 50, fall: 2, rise: 2, timeout: 500 };

async function serverStats(rt: ProxyRuntime, name: string): Promise<ServerStats> {
  return (await rt.stats()).backends[0].servers.find((s) => s.name === name)!;
}

function twoServers(
  port: number,
  s1: FlakyServer,
  s2: FlakyServer,
  overrides: Parameters<typeof backend>[2] = {},
): Snapshot {
  return snapshot(
    [frontend('fe', port, 'be')],
    [
      backend('be', [server('s1', s1.port, { check: true }), server('s2', s2.port, { check: true })], {
        balance: 'first',
        check: fast,
        ...overrides,
      }),
    ],
  );
}

describe('health checks', () => {
  it('marks a server DOWN after fall failures and UP after rise successes, with events and counters', async () => {
    const [s1, s2] = [await flaky('s1'), await flaky('s2')];
    const port = await freePort();
    const rt = runtime();
    const events: RuntimeEvent[] = [];
    rt.onEvent((e) => events.push(e));
    await rt.apply(twoServers(port, s1, s2));
    await waitFor(async () => (await serverStats(rt, 's1')).check_status === 'L4OK', 2000, 'first check');
    expect(await serverStats(rt, 's1')).toMatchObject({ status: 'UP', health: 'UP', checked: true });

    s1.down();
    const downAt = Date.now();
    await waitFor(async () => (await serverStats(rt, 's1')).health === 'DOWN', 3000, 's1 DOWN');
    // fall = 2 at inter 50 ms: not before the second failure.
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(40);
    const down = await serverStats(rt, 's1');
    expect(down).toMatchObject({ status: 'DOWN', check_status: 'L4CON', chkdown: 1 });
    expect(down.chkfail).toBeGreaterThanOrEqual(2);
    expect(down.check_duration).toBeGreaterThanOrEqual(0);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'health', server: 's1', from: 'UP', to: 'DOWN', checkStatus: 'L4CON' }),
    );

    // A DOWN server is never chosen.
    const c = await connect(port);
    expect(await readLine(c)).toBe('s2');
    c.destroy();

    await sleep(1100);
    await s1.up();
    await waitFor(async () => (await serverStats(rt, 's1')).health === 'UP', 3000, 's1 UP');
    const up = await serverStats(rt, 's1');
    expect(up).toMatchObject({ status: 'UP', check_status: 'L4OK', chkdown: 1 });
    expect(up.downtime).toBeGreaterThanOrEqual(1);
    expect(Date.now() - up.lastChangeAt).toBeLessThan(1000);
    expect(events.filter((e) => e.type === 'health').map((e) => (e as { to: string }).to)).toEqual([
      'DOWN',
      'UP',
    ]);
    const c2 = await connect(port);
    expect(await readLine(c2)).toBe('s1');
    c2.destroy();
  });

  it("keeps a DOWN server's sessions with onMarkedDown keep", async () => {
    const [s1, s2] = [await flaky('s1'), await flaky('s2')];
    const port = await freePort();
    const rt = runtime();
    await rt.apply(twoServers(port, s1, s2, { onMarkedDown: 'keep' }));
    const c = await connect(port);
    expect(await readLine(c)).toBe('s1');
    s1.down();
    await waitFor(async () => (await serverStats(rt, 's1')).health === 'DOWN', 3000, 's1 DOWN');
    c.write('still');
    expect((await readBytes(c, 5)).toString()).toBe('still');
    c.destroy();
  });

  it('closes the sessions of a server marked DOWN with onMarkedDown shutdown-sessions', async () => {
    const [s1, s2] = [await flaky('s1'), await flaky('s2')];
    const port = await freePort();
    const rt = runtime();
    const events: RuntimeEvent[] = [];
    rt.onEvent((e) => events.push(e));
    await rt.apply(twoServers(port, s1, s2, { onMarkedDown: 'shutdown-sessions' }));
    const onS1 = await connect(port);
    expect(await readLine(onS1)).toBe('s1');
    s1.down();
    await closed(onS1, 3000);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'sessions-closed', server: 's1', count: 1, reason: 'marked down' }),
    );
    // The client reconnects and lands on the healthy server at once.
    const again = await connect(port);
    expect(await readLine(again)).toBe('s2');
    again.destroy();
  });

  it('pauses checks in maint and resumes them when ready', async () => {
    const [s1, s2] = [await flaky('s1'), await flaky('s2')];
    const port = await freePort();
    const rt = runtime();
    await rt.apply(twoServers(port, s1, s2));
    await waitFor(async () => (await serverStats(rt, 's1')).lastCheckAt > 0, 2000, 'first check');
    await rt.setServerState('be', 's1', 'maint');
    s1.down();
    const frozen = await serverStats(rt, 's1');
    // Evidence instead of a quiet wait: s2, checked at the same interval, completed three more checks.
    const s2Checks = (await serverStats(rt, 's2')).lastCheckAt;
    let seen = 0;
    let last = s2Checks;
    await waitFor(
      async () => {
        const at = (await serverStats(rt, 's2')).lastCheckAt;
        if (at !== last) [seen, last] = [seen + 1, at];
        return seen >= 3;
      },
      3000,
      'three checks of s2',
    );
    const later = await serverStats(rt, 's1');
    expect(later.lastCheckAt).toBe(frozen.lastCheckAt);
    expect(later).toMatchObject({ status: 'MAINT', health: 'UP', chkfail: frozen.chkfail });
    await rt.setServerState('be', 's1', 'ready');
    await waitFor(async () => (await serverStats(rt, 's1')).health === 'DOWN', 3000, 'checks resumed');
  });

  it('keeps checker state across unrelated applies and restarts only the checker whose settings changed', async () => {
    const [s1, s2] = [await flaky('s1'), await flaky('s2')];
    const port = await freePort();
    const rt = runtime();
    await rt.apply(twoServers(port, s1, s2));
    s1.down();
    await waitFor(async () => (await serverStats(rt, 's1')).health === 'DOWN', 3000, 's1 DOWN');
    const s2Before = await serverStats(rt, 's2');

    // An unrelated change (a new frontend, another weight) leaves health and check history alone.
    const other = twoServers(port, s1, s2);
    other.frontends.push(frontend('fe2', await freePort(), 'be'));
    other.backends[0].servers[1].weight = 3;
    await rt.apply(other);
    expect(await serverStats(rt, 's1')).toMatchObject({ health: 'DOWN', chkdown: 1 });

    // Changing s1's address restarts s1's checker (a new checker starts UP, then finds the truth);
    // s2's keeps running with its history.
    const moved = structuredClone(other);
    const s1b = await flaky('s1b');
    moved.backends[0].servers[0].port = s1b.port;
    await rt.apply(moved);
    expect((await serverStats(rt, 's1')).health).toBe('UP');
    await waitFor(
      async () => (await serverStats(rt, 's1')).check_status === 'L4OK',
      2000,
      's1 checked at its new port',
    );
    const s2After = await serverStats(rt, 's2');
    expect(s2After.lastCheckAt).toBeGreaterThanOrEqual(s2Before.lastCheckAt);
    expect(s2After.lastChangeAt).toBe(s2Before.lastChangeAt);

    // Turning checks off for the backend stops them and reports 'no check'.
    const off = structuredClone(moved);
    off.backends[0].check = { ...fast, type: 'none' };
    await rt.apply(off);
    expect(await serverStats(rt, 's1')).toMatchObject({
      status: 'no check',
      checked: false,
      check_status: '',
    });
  });
});
