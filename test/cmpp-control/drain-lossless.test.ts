// Issue 12 point 2's own test, through the real app: SP simulators with 16 SUBMITs in flight at full speed, resending
// unanswered SUBMITs on their next connection, while their server is drained with a deadline
// (PUT …/state {"state":"drain","deadline":…}): at the deadline the drain closes the sessions left with the lossless
// close; every SUBMIT is acknowledged exactly once, none reaches a gateway twice, none is ambiguous, every client ends
// up on the other server, and the drained server moves to maint by itself.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGateway, type GatewaySim } from '../../src/sim/gateway.js';
import { startSp, type SpSim } from '../../src/sim/sp.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { freePort, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

const ACCOUNTS = ['901234', '901235', '901236', '901237'];
const PER_SP = 2000;

let app: StartedApp;
let g: GatewaySim;
let port: number;
const sps: SpSim[] = [];

beforeAll(async () => {
  g = await startGateway({
    ports: [0, 0],
    accounts: ACCOUNTS.map((account) => ({ account, secret: 's', maxConnections: 8 })),
    record: true,
    answerDelayMs: 20,
    activeTestMs: 0,
  });
  app = await startApp();
  port = await freePort();
  await app.request
    .post('/api/v1/backends')
    .send(backendBody('gw', [serverBody('gw1', g.ports[0]), serverBody('gw2', g.ports[1])]))
    .expect(201);
  await app.request
    .post('/api/v1/frontends')
    .send(frontendBody('sms', port, 'gw', { inspect: 'cmpp' }))
    .expect(201);
});

afterAll(async () => {
  for (const sp of sps) await sp.stop();
  await app?.close();
  await g?.close();
});

it('a drain with a deadline under load: exactly once, nothing ambiguous, clients on gw2, gw1 to maint', async () => {
  for (const [i, account] of ACCOUNTS.entries()) {
    sps.push(
      startSp({
        host: '127.0.0.1',
        port,
        account,
        secret: 's',
        connections: 2,
        window: 16,
        rate: 4000,
        total: PER_SP,
        reconnectMs: 50,
        localAddress: `127.0.0.${50 + i}`,
      }),
    );
  }
  await waitFor(
    () => sps.every((sp) => sp.counters().connected === 2 && sp.counters().acked >= 200),
    20_000,
    'SPs submitting',
  );
  const sessions = async () =>
    (await app.request.get('/api/v1/sessions').expect(200)).body as Array<{ server: string }>;
  const onGw1 = (await sessions()).filter((s) => s.server === 'gw1').length;
  expect(onGw1).toBeGreaterThan(0);

  const drained = await app.request
    .put('/api/v1/backends/gw/servers/gw1/state')
    .send({ state: 'drain', deadline: 300, then: 'maint' });
  expect(drained.status, JSON.stringify(drained.body)).toBe(200);

  await waitFor(
    () => sps.every((sp) => sp.counters().acked >= PER_SP && sp.counters().outstanding === 0),
    60_000,
    'every SUBMIT acknowledged',
  );
  const recorded = g.recorded();
  expect(recorded.size).toBe(ACCOUNTS.length * PER_SP);
  expect([...recorded.values()].filter((n) => n !== 1)).toEqual([]);
  for (const sp of sps) expect(sp.counters()).toMatchObject({ acked: PER_SP, duplicateAcks: 0, failed: 0 });
  // The deadline closed gw1's sessions the CMPP way: one TERMINATE per session each way.
  expect(sps.reduce((n, sp) => n + sp.counters().terminated, 0)).toBe(onGw1);
  expect(g.counters()[0].terminates).toBe(onGw1);
  await waitFor(() => sps.every((sp) => sp.counters().connected === 2), 10_000, 'reconnected');
  expect((await sessions()).every((s) => s.server === 'gw2')).toBe(true);
  const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
  expect(stats.frontends[0].cmpp.ambiguous).toBe(0);
  expect(stats.cmppAccounts.map((a: { ambiguous: number }) => a.ambiguous)).toEqual(ACCOUNTS.map(() => 0));
  // The drain ends by itself once gw1 has no session left.
  await waitFor(
    async () => {
      const body = (await app.request.get('/api/v1/stats').expect(200)).body;
      return body.backends[0].servers.find((s: { name: string }) => s.name === 'gw1').adminState === 'maint';
    },
    10_000,
    'gw1 in maint',
  );
});
