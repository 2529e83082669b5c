// A backend's chkdown is the times the BACKEND went DOWN (no server left in service), as HAProxy 2.6 counts it,
// not the sum of its servers' (docs/events.md): the same flaps through Tether and a real HAProxy, side by side,
// and through a WorkerPool, whose merged value must not be N× the real one.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../socket/cli.js';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { backend, freePort, server, snapshot, waitFor } from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';
import { startPool } from '../workers/pool-helpers.js';
import { haproxyMissing, startHaproxy, type Haproxy } from './haproxy.js';

const missing = haproxyMissing();
if (missing) console.warn(`HAProxy side of the backend chkdown test skipped: ${missing}`);

/** An upstream that can be killed and brought back on the same port. */
class Flapping {
  private listener: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const listener = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: '127.0.0.1', port: this.port }, () => resolve());
    });
    this.listener = listener;
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.listener = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
}

/** `chkdown` and `status` of every row of a `show stat` answer, keyed "pxname/svname". */
function rowsOf(csv: string): Map<string, { status: string; chkdown: string }> {
  const [header = '', ...lines] = csv.split('\n').filter((l) => l !== '');
  const columns = header.replace(/^# /, '').split(',');
  const [status, chkdown] = [columns.indexOf('status'), columns.indexOf('chkdown')];
  expect(status).toBeGreaterThan(0);
  expect(chkdown).toBeGreaterThan(0);
  const rows = new Map<string, { status: string; chkdown: string }>();
  for (const line of lines) {
    const f = line.split(',');
    rows.set(`${f[0]}/${f[1]}`, { status: f[status]!, chkdown: f[chkdown]! });
  }
  return rows;
}

/** One command on a stats socket (Tether's runtime socket), its whole answer. */
const command = (path: string, line: string): Promise<string> => send(path, `${line}\n`);

const CHECK = { type: 'tcp' as const, inter: 100, fall: 1, rise: 1 };
const KEYS = ['be/s1', 'be/s2', 'be/BACKEND'];

describe('backend chkdown through the REST API, side by side with HAProxy 2.6', () => {
  let started: StartedApp;
  let haproxy: Haproxy | undefined;
  let s1: Flapping;
  let s2: Flapping;
  let dir: string;

  /** Tether's `show stat` on its runtime socket (the REST CSV is compared with it below). */
  const tether = () => command(join(dir, 'tether.sock'), 'show stat');
  const readers = () => [tether, ...(haproxy ? [() => haproxy!.command('show stat')] : [])];
  /** Waits until Tether (and HAProxy) show the backend in `status`. */
  const backendIs = async (status: 'UP' | 'DOWN') => {
    for (const read of readers()) {
      await waitFor(
        async () => rowsOf(await read()).get('be/BACKEND')?.status === status,
        10_000,
        `BACKEND ${status}`,
      );
    }
  };

  beforeAll(async () => {
    s1 = new Flapping(await freePort());
    s2 = new Flapping(await freePort());
    await s1.start();
    await s2.start();
    dir = mkdtempSync(join(tmpdir(), 'tether-chkdown-'));
    started = await startApp({ env: { TETHER_SOCKET: join(dir, 'tether.sock') } });
    const res = await started.request.post('/api/v1/backends').send({
      name: 'be',
      balance: 'roundrobin',
      check: CHECK,
      servers: [s1, s2].map((s, i) => ({
        name: `s${i + 1}`,
        address: '127.0.0.1',
        port: s.port,
        check: true,
      })),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    if (!missing) {
      haproxy = await startHaproxy(
        [
          'defaults',
          '  mode tcp',
          '  timeout connect 1s',
          '  timeout client 1h',
          '  timeout server 1h',
          'backend be',
          '  balance roundrobin',
          ...[s1, s2].map((s, i) => `  server s${i + 1} 127.0.0.1:${s.port} check inter 100 fall 1 rise 1`),
          '',
        ].join('\n'),
      );
    }
    await backendIs('UP');
  });

  afterAll(async () => {
    await haproxy?.stop();
    await started?.close();
    await s1?.stop();
    await s2?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kill both, bring one back, kill it again: servers 2 and 1, BACKEND 2, in show stat, the CSV, JSON and /metrics', async () => {
    const chkdowns = async (read: () => Promise<string>) => {
      const rows = rowsOf(await read());
      return KEYS.map((k) => rows.get(k)?.chkdown);
    };
    for (const read of readers()) expect(await chkdowns(read)).toEqual(['0', '0', '0']);

    await s1.stop();
    await s2.stop();
    await backendIs('DOWN');
    await s1.start();
    await backendIs('UP');
    await s1.stop();
    await backendIs('DOWN');
    // Both servers have settled DOWN (fall 1) once the backend is DOWN.
    const ours = await chkdowns(tether);
    if (haproxy) expect(ours).toEqual(await chkdowns(() => haproxy!.command('show stat')));
    // What HAProxy 2.6.12 prints for these steps (docs/events.md); the old sum of the servers' gave 3.
    expect(ours).toEqual(['2', '1', '2']);

    const csv = (await started.request.get('/api/v1/stats?format=csv')).text;
    expect(KEYS.map((k) => rowsOf(csv).get(k)?.chkdown)).toEqual(ours);

    const stats = (await started.request.get('/api/v1/stats')).body as RuntimeStats;
    const be = stats.backends.find((b) => b.name === 'be')!;
    expect(be.chkdown).toBe(2);
    expect(be.servers.map((s) => s.chkdown)).toEqual([2, 1]);
    expect(be.status).toBe('DOWN');

    const metrics = (await started.request.get('/metrics')).text;
    expect(metrics).toMatch(/^haproxy_backend_check_up_down_total\{proxy="be"\} 2$/m);
  });

  it('counts a backend left with only draining servers as DOWN once more, as HAProxy does', async () => {
    await s1.start();
    await s2.start();
    for (const read of readers()) {
      await waitFor(
        async () => {
          const rows = rowsOf(await read());
          return KEYS.every((k) => rows.get(k)?.status === 'UP');
        },
        10_000,
        'all UP',
      );
    }
    const chkdowns = async (read: () => Promise<string>) => {
      const rows = rowsOf(await read());
      return KEYS.map((k) => rows.get(k)?.chkdown);
    };
    const before = await chkdowns(tether);
    for (const name of ['s1', 's2']) {
      const res = await started.request
        .put(`/api/v1/backends/be/servers/${name}/state`)
        .send({ state: 'drain' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      await haproxy?.command(`set server be/${name} state drain`);
    }
    await backendIs('DOWN');
    const ours = await chkdowns(tether);
    if (haproxy) expect(ours).toEqual(await chkdowns(() => haproxy!.command('show stat')));
    // Draining is no server DOWN, but the backend has none left in service: one more DOWN of the backend only.
    expect(ours).toEqual([before[0], before[1], String(Number(before[2]) + 1)]);
    expect(ours).toEqual(['2', '1', '3']);
  });
});

describe('backend chkdown with worker processes', () => {
  const { defer } = closeAfterEach();

  it('is the backend’s own count once, not summed over the workers', async () => {
    const s1 = new Flapping(await freePort());
    const s2 = new Flapping(await freePort());
    await s1.start();
    await s2.start();
    defer(() => s1.stop());
    defer(() => s2.stop());
    const pool = await startPool(2, defer);
    await pool.apply(
      snapshot(
        [],
        [
          backend('be', [server('s1', s1.port, { check: true }), server('s2', s2.port, { check: true })], {
            check: CHECK,
          }),
        ],
      ),
    );
    const merged = async () => (await pool.stats()).backends[0]!;
    const workerBackends = async () =>
      Promise.all([1, 2].map(async (id) => (await pool.callWorker<RuntimeStats>(id, 'stats')).backends[0]!));
    /** The merged view and every worker (which follow the main process's pushed health) show `status`. */
    const backendIs = async (status: 'UP' | 'DOWN') => {
      await waitFor(async () => (await merged()).status === status, 10_000, `merged ${status}`);
      await waitFor(
        async () => (await workerBackends()).every((b) => b.status === status),
        10_000,
        `workers ${status}`,
      );
    };

    await backendIs('UP');
    await s1.stop();
    await s2.stop();
    await backendIs('DOWN');
    await s1.start();
    await backendIs('UP');
    await s1.stop();
    await backendIs('DOWN');

    const be = await merged();
    expect(be.servers.map((s) => s.chkdown)).toEqual([2, 1]);
    // Every worker saw the same two DOWNs; the merged value is that, not their sum (4) nor the servers' (3).
    expect((await workerBackends()).map((b) => b.chkdown)).toEqual([2, 2]);
    expect(be.chkdown).toBe(2);
  });
});
