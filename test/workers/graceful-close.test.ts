// The lossless CMPP close with worker processes (issue 12 point 2): the compiled appliance under TETHER_WORKERS=2,
// configured over REST, SP simulators with 16 SUBMITs in flight; POST .../shutdown-sessions {graceful: true} is
// fanned out to every worker: every SUBMIT acknowledged once, none twice at a gateway, none ambiguous in the merged
// stats, every client on the other server.
import { afterAll, expect, it } from 'vitest';
import { startGateway } from '../../src/sim/gateway.js';
import { startSp, type SpSim } from '../../src/sim/sp.js';
import { tempDbPath } from '../helpers/app.js';
import { adminClient, TEST_ADMIN_PASSWORD } from '../helpers/auth.js';
import { compileApp, startAppliance, untilListening, type CompiledApp } from '../helpers/compiled-app.js';
import { freePort, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
let compiled: CompiledApp | undefined;
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  compiled?.remove();
});

const ACCOUNTS = ['901234', '901235', '901236', '901237'];
const PER_SP = 1500;

it('graceful shutdown-sessions across 2 workers: exactly once, nothing ambiguous, clients on the other server', async () => {
  compiled = await compileApp();
  const g = await startGateway({
    ports: [0, 0],
    accounts: ACCOUNTS.map((account) => ({ account, secret: 's', maxConnections: 8 })),
    record: true,
    answerDelayMs: 20,
    activeTestMs: 0,
  });
  cleanups.push(() => g.close());
  const db = tempDbPath();
  const httpPort = await freePort();
  const port = await freePort();
  const appliance = startAppliance(compiled.main, {
    TETHER_DB: db.dbPath,
    TETHER_HTTP_PORT: String(httpPort),
    TETHER_LOG_LEVEL: 'log',
    TETHER_WORKERS: '2',
    TETHER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
  });
  cleanups.push(() => {
    appliance.child.kill('SIGKILL');
    db.cleanup();
  });
  await untilListening(appliance);
  const api = await adminClient(`http://127.0.0.1:${httpPort}`);
  await waitFor(
    async () => {
      const workers = (await api.get('/api/v1/stats')).body.workers ?? [];
      return workers.length === 2 && workers.every((w: { state: string }) => w.state === 'running');
    },
    30_000,
    'workers running',
  );
  await api
    .post('/api/v1/backends')
    .send(backendBody('gw', [serverBody('gw1', g.ports[0]), serverBody('gw2', g.ports[1])]))
    .expect(201);
  await api
    .post('/api/v1/frontends')
    .send(frontendBody('sms', port, 'gw', { inspect: 'cmpp' }))
    .expect(201);

  const sps: SpSim[] = ACCOUNTS.map((account, i) => {
    const sp = startSp({
      host: '127.0.0.1',
      port,
      account,
      secret: 's',
      // 4 per SP, 16 in all: 8 sometimes all landed in one worker under load (the kernel picks the accepting one).
      connections: 4,
      window: 16,
      rate: 4000,
      total: PER_SP,
      reconnectMs: 50,
      localAddress: `127.0.0.${20 + i}`,
    });
    cleanups.push(() => sp.stop());
    return sp;
  });
  await waitFor(
    () => sps.every((sp) => sp.counters().connected === 4 && sp.counters().acked >= 200),
    30_000,
    'SPs submitting',
  );
  const sessions = async () =>
    (await api.get('/api/v1/sessions').expect(200)).body as Array<{ id: string; server: string }>;
  const before = await sessions();
  const onGw1 = before.filter((s) => s.server === 'gw1');
  expect(onGw1.length, JSON.stringify(before)).toBeGreaterThan(0);
  // Sessions of both workers ("w1:", "w2:" ids) are among them.
  expect(new Set(before.map((s) => s.id.split(':')[0])).size, JSON.stringify(before)).toBe(2);
  // What every failure below should show.
  const state = () =>
    JSON.stringify({
      sps: sps.map((sp) => sp.counters()),
      gateway: g.counters(),
      before,
      log: appliance.output().slice(-3000),
    });

  await api.put('/api/v1/backends/gw/servers/gw1/state').send({ state: 'drain' }).expect(200);
  const shut = await api
    .post('/api/v1/backends/gw/servers/gw1/shutdown-sessions')
    .send({ graceful: true })
    .expect(200);
  expect(shut.body, state()).toEqual({ closed: onGw1.length });

  await waitFor(
    () => sps.every((sp) => sp.counters().acked >= PER_SP && sp.counters().outstanding === 0),
    60_000,
    'every SUBMIT acknowledged',
  );
  const recorded = g.recorded();
  expect(recorded.size, state()).toBe(ACCOUNTS.length * PER_SP);
  expect(
    [...recorded.values()].filter((n) => n !== 1),
    state(),
  ).toEqual([]);
  for (const sp of sps)
    expect(sp.counters(), state()).toMatchObject({ acked: PER_SP, duplicateAcks: 0, failed: 0 });
  expect(
    sps.reduce((n, sp) => n + sp.counters().terminated, 0),
    state(),
  ).toBe(onGw1.length);
  expect(g.counters()[0].terminates, state()).toBe(onGw1.length);
  await waitFor(() => sps.every((sp) => sp.counters().connected === 4), 10_000, 'reconnected');
  expect(
    (await sessions()).every((s) => s.server === 'gw2'),
    state(),
  ).toBe(true);
  const stats = (await api.get('/api/v1/stats').expect(200)).body;
  expect(stats.frontends[0].cmpp.ambiguous, state()).toBe(0);
  expect(stats.cmppAccounts.map((a: { ambiguous: number }) => a.ambiguous)).toEqual(ACCOUNTS.map(() => 0));
});
