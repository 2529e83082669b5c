// Issue 10 point 6: the data plane runs out of descriptors (a low `ulimit -n`), the API and console stay
// reachable (the main process holds no proxied connection), the worker keeps its sessions, pauses
// accepting for a moment, counts it (stats, /metrics), logs once per interval and never crashes.
import type { Socket } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { tempDbPath } from '../helpers/app.js';
import { TEST_ADMIN_PASSWORD, adminClient, withBearer } from '../helpers/auth.js';
import { compileApp, startAppliance, untilListening, type CompiledApp } from '../helpers/compiled-app.js';
import { echo, freePort, listen, readBytes, sleep } from '../helpers/net.js';
import { appWithStoredRoute } from '../helpers/stored-route.js';
import net from 'node:net';

const db = tempDbPath();
let compiled: CompiledApp | undefined;
afterAll(() => {
  compiled?.remove();
  db.cleanup();
});

// Low enough for a worker to run out (2 per proxied connection), high enough for the app to load its modules.
const OPEN_FILES = 1024;
const CLIENTS = 1500;

it('out of descriptors in a worker: the API answers, sessions live on, accepts pause and are counted, no crash', async () => {
  compiled = await compileApp();
  const upstream = await listen(echo);
  const port = await freePort();
  const httpPort = await freePort();
  await (await appWithStoredRoute(db.dbPath, upstream.port, port)).close();

  const appliance = startAppliance(
    compiled.main,
    {
      TETHER_DB: db.dbPath,
      TETHER_HTTP_PORT: String(httpPort),
      TETHER_LOG_LEVEL: 'log',
      TETHER_WORKERS: '1',
      TETHER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    },
    { openFiles: OPEN_FILES },
  );
  const clients: Socket[] = [];
  try {
    await untilListening(appliance);
    const url = `http://127.0.0.1:${httpPort}`;
    const api = await adminClient(url);
    await waitForRunning(api);

    // A few sessions first: they must live through what follows.
    const early: Socket[] = [];
    for (let i = 0; i < 5; i++) early.push(await open(port, clients));
    for (const c of early) expect(await roundTrip(c)).toBe(true);

    // Far more clients than the worker has descriptors for (2 per proxied connection).
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => i).map(async (i) => {
        await sleep(i % 50);
        await open(port, clients).catch(() => undefined);
      }),
    );

    // The API answers, quickly, while the worker is out of descriptors.
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const res = await api.get('/api/v1/stats').timeout(5000);
      expect(res.status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(2000);
      await sleep(200);
    }
    const stats = (await api.get('/api/v1/stats').expect(200)).body;
    console.log(
      `ulimit -n ${OPEN_FILES}, ${CLIENTS} clients: ${stats.frontends[0].scur} sessions, accept errors ${JSON.stringify(stats.acceptErrors)}, worker ${JSON.stringify(stats.workers[0])} (${Date.now() - started} ms)`,
    );
    expect(stats.acceptErrors.errors).toBeGreaterThan(0);
    expect(stats.acceptErrors.pauses).toBeGreaterThan(0);
    expect(['EMFILE', 'ENFILE']).toContain(stats.acceptErrors.lastCode);
    expect(stats.workers).toHaveLength(1);
    expect(stats.workers[0]).toMatchObject({ restarts: 0, state: 'running', lostSessions: 0 });
    const metrics = (await api.get('/metrics').expect(200)).text;
    expect(Number(/^tether_accept_errors_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^tether_worker_restarts_total\{worker="1"\} 0$/m);

    // The sessions opened before still relay; the log says it once per interval, not once per error.
    for (const c of early) expect(await roundTrip(c)).toBe(true);
    const lines = appliance.output().match(/out of file descriptors: /g) ?? [];
    const seconds = (Date.now() - started) / 1000;
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(appliance.child.exitCode).toBe(null);

    // Descriptors come back: accepting resumes.
    for (const c of clients.splice(5)) c.destroy();
    await sleep(1500);
    const fresh = await open(port, clients);
    expect(await roundTrip(fresh)).toBe(true);
  } finally {
    for (const c of clients) c.destroy();
    appliance.child.kill('SIGKILL');
    await upstream.close();
  }
});

async function waitForRunning(api: ReturnType<typeof withBearer>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await api.get('/api/v1/stats');
    if (res.status === 200 && res.body.workers?.[0]?.state === 'running' && res.body.frontends.length > 0)
      return;
    await sleep(50);
  }
  throw new Error('the worker did not start');
}

function open(port: number, into: Socket[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    into.push(socket);
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function roundTrip(c: Socket): Promise<boolean> {
  c.write('ping');
  try {
    return (await readBytes(c, 4, 5000)).toString() === 'ping';
  } catch {
    return false;
  }
}
