// A drain with a deadline across worker processes: the compiled appliance under TETHER_WORKERS=2. Sessions left
// come from the pool's merged stats (every worker's sessions), the deadline closes the sessions in every worker,
// and the server moves to maint once none is left in any of them.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileApp, type CompiledApp } from '../helpers/compiled-app.js';
import { closed, connect, listen, named, readLine, waitFor, type TestServer } from '../helpers/net.js';
import { applianceWithWorkers, type RunningAppliance } from '../workers/appliance.js';
import type { RuntimeStats, ServerStats } from '../../src/runtime/types.js';

const CLIENTS = 24;
let compiled: CompiledApp;
let upstream: TestServer;
let running: RunningAppliance | undefined;
const clients: Socket[] = [];

beforeAll(async () => {
  compiled = await compileApp();
  upstream = await listen(named('s'));
}, 120_000);
afterAll(async () => {
  for (const c of clients) c.destroy();
  running?.stop();
  await upstream?.close();
  compiled?.remove();
});

async function stats(): Promise<RuntimeStats> {
  const res = await running!.api.get('/api/v1/stats');
  expect(res.status).toBe(200);
  return res.body as RuntimeStats;
}
const server = async (): Promise<ServerStats> => (await stats()).backends[0].servers[0];

describe('drain with workers', () => {
  it('counts the sessions left over every worker and closes them all at the deadline', async () => {
    running = await applianceWithWorkers(compiled.main, upstream, 2);
    for (let i = 0; i < CLIENTS; i++) {
      const c = await connect(running.port, { localAddress: `127.0.0.${10 + i}` });
      clients.push(c);
      expect(await readLine(c)).toBe('s');
    }
    // The kernel spreads the accepts over both workers' listeners.
    const perWorker = await waitFor(
      async () => {
        const workers = (await stats()).workers ?? [];
        const sessions = workers.map((w) => w.sessions);
        return sessions.reduce((a, b) => a + b, 0) === CLIENTS ? sessions : undefined;
      },
      10_000,
      'every session in the worker reports',
    );
    expect(perWorker.length).toBe(2);
    expect(Math.min(...perWorker), `sessions per worker ${perWorker}`).toBeGreaterThan(0);

    const res = await running.api
      .put('/api/v1/backends/b/servers/s/state')
      .send({ state: 'drain', deadline: 4000 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const drain = (await server()).drain;
    expect(drain).toMatchObject({ then: 'maint', sessionsLeft: CLIENTS, closedAt: null });
    expect(drain!.oldestSessionAgeMs).toBeGreaterThan(0);

    // Four clients leave by themselves: the merged count follows.
    for (const c of clients.slice(0, 4)) c.destroy();
    await waitFor(async () => (await server()).drain?.sessionsLeft === CLIENTS - 4, 10_000, 'sessions left');
    expect((await server()).adminState).toBe('drain');

    // The deadline closes the rest, in both workers; then the server is maint.
    await Promise.all(clients.slice(4).map((c) => closed(c, 15_000)));
    await waitFor(async () => (await server()).adminState === 'maint', 10_000, 'maint');
    const after = await stats();
    expect(after.backends[0].servers[0].scur).toBe(0);
    // Each worker's own count comes with its next periodic report.
    await waitFor(
      async () => (await stats()).workers!.every((w) => w.sessions === 0),
      10_000,
      'no session in any worker',
    );
    const audit = await running.api.get('/api/v1/audit').query({ action: 'server.shutdown-sessions' });
    expect(audit.body.items[0]).toMatchObject({ actor: 'system', sourceAddress: 'drain', target: 'b/s' });
    expect(audit.body.items[0].detail).toContain(`${CLIENTS - 4} session(s) closed`);
  });
});
