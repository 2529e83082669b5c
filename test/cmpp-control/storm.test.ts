// Issue 12 point 6: everything at once, through the real app and the simulators. 200 SP connections over 20
// accounts (10 each, 16 SUBMITs in flight, resending unanswered ones on their next connection) against three
// gateway nodes, with a per-account cap of 8 (so 2 connections per account are always knocking) and a per-account
// login rate on. Meanwhile one gateway is killed and restarted, and another is drained with a deadline.
// Afterwards: no SUBMIT lost (every one acknowledged), none reached a gateway twice beyond what Tether counted
// ambiguous (the killed gateway's requests in flight), none of the drained gateway's ambiguous, the gateways never
// had to refuse a login for too many connections (their own per-account count never passed the cap), the drain's
// progress was shown until it ended in maint, and Tether's own refusals were counted.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGateway, type GatewayAccount, type GatewaySim } from '../../src/sim/gateway.js';
import { startSp, type SpSim } from '../../src/sim/sp.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

const ACCOUNT_COUNT = 20;
const CONNECTIONS_PER_ACCOUNT = 10;
const CAP = 8;
const PER_SP = 1500;
const ACCOUNTS = Array.from({ length: ACCOUNT_COUNT }, (_, i) => `9${String(i).padStart(5, '0')}`);
// Each gateway node refuses (status 5) past the cap itself: a refusal there means Tether let too many through.
const GATEWAY_ACCOUNTS: GatewayAccount[] = ACCOUNTS.map((account) => ({
  account,
  secret: 's',
  maxConnections: CAP,
}));

let app: StartedApp;
let port: number;
const gateways = new Map<string, GatewaySim>();
/** Every gateway instance that ran, the killed one included: their records together. */
const everyGateway: GatewaySim[] = [];
const sps: SpSim[] = [];

async function gateway(name: string, onPort = 0): Promise<GatewaySim> {
  const g = await startGateway({
    ports: [onPort],
    accounts: GATEWAY_ACCOUNTS,
    record: true,
    activeTestMs: 0,
  });
  gateways.set(name, g);
  everyGateway.push(g);
  return g;
}

interface ServerView {
  name: string;
  status: string;
  adminState: string;
  scur: number;
  drain?: { sessionsLeft: number; timeLeftMs: number | null } | null;
}

async function servers(): Promise<ServerView[]> {
  return (await app.request.get('/api/v1/stats').expect(200)).body.backends[0].servers;
}

beforeAll(async () => {
  for (const name of ['gwA', 'gwB', 'gwC']) await gateway(name);
  app = await startApp();
  port = await freePort();
  const backend = await app.request.post('/api/v1/backends').send(
    backendBody(
      'gw',
      ['gwA', 'gwB', 'gwC'].map((name) => serverBody(name, gateways.get(name)!.ports[0], { check: true })),
      {
        check: { type: 'tcp', inter: 200, fall: 1, rise: 1, timeout: 500 },
        onMarkedDown: 'terminate',
        cmpp: {
          maxConnectionsPerAccount: CAP,
          loginRate: { perAccount: { logins: 2, per: 1000 } },
        },
      },
    ),
  );
  expect(backend.status, JSON.stringify(backend.body)).toBe(201);
  const fe = await app.request
    .post('/api/v1/frontends')
    .send(frontendBody('sms', port, 'gw', { inspect: 'cmpp' }));
  expect(fe.status, JSON.stringify(fe.body)).toBe(201);
}, 60_000);

afterAll(async () => {
  for (const sp of sps) await sp.stop();
  await app?.close();
  for (const g of gateways.values()) await g.close();
});

it('200 SP connections, a gateway killed and restarted, one drained with a deadline, caps and login rates on: nothing lost, nothing doubled outside the ambiguous, caps held', async () => {
  for (const [i, account] of ACCOUNTS.entries()) {
    sps.push(
      startSp({
        host: '127.0.0.1',
        port,
        account,
        secret: 's',
        connections: CONNECTIONS_PER_ACCOUNT,
        window: 16,
        rate: 300,
        total: PER_SP,
        reconnectMs: 100,
        resendMs: 5000,
        maxSends: 100,
        localAddress: `127.0.0.${20 + i}`,
      }),
    );
  }
  // Every account at its cap, submitting.
  await waitFor(
    () => sps.every((sp) => sp.counters().connected === CAP && sp.counters().acked >= 50),
    60_000,
    'SPs logged in up to the cap and submitting',
  );

  // Kill gwA with its sessions; restart it on the same port a moment later.
  const portA = gateways.get('gwA')!.ports[0];
  await gateways.get('gwA')!.close();
  await waitFor(async () => (await servers())[0].status === 'DOWN', 10_000, 'gwA DOWN');
  await sleep(500);
  await gateway('gwA', portA);
  await waitFor(async () => (await servers())[0].status === 'UP', 10_000, 'gwA UP again');

  // Drain gwB with a deadline; watch its progress until it ends in maint.
  const drained = await app.request
    .put('/api/v1/backends/gw/servers/gwB/state')
    .send({ state: 'drain', deadline: 1500, then: 'maint' });
  expect(drained.status, JSON.stringify(drained.body)).toBe(200);
  const progress: number[] = [];
  await waitFor(
    async () => {
      const gwB = (await servers())[1];
      if (gwB.drain) progress.push(gwB.drain.sessionsLeft);
      return gwB.adminState === 'maint';
    },
    20_000,
    'gwB drained to maint',
  );
  expect(progress.length).toBeGreaterThan(1);
  expect(progress[0]).toBeGreaterThan(0);

  // Every SUBMIT acknowledged.
  await waitFor(
    () => sps.every((sp) => sp.counters().acked >= PER_SP && sp.counters().outstanding === 0),
    120_000,
    'every SUBMIT acknowledged',
  );
  const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
  const ambiguous: number = stats.frontends[0].cmpp.ambiguous;
  const accounts = stats.cmppAccounts as Array<{
    account: string;
    ambiguous: number;
    refusedCap: number;
    refusedRate: number;
  }>;

  // Nothing lost: each message reached some gateway and was acknowledged once.
  const seen = new Map<string, number>();
  for (const g of everyGateway) for (const [key, n] of g.recorded()) seen.set(key, (seen.get(key) ?? 0) + n);
  expect(seen.size).toBe(ACCOUNT_COUNT * PER_SP);
  for (const sp of sps)
    expect(sp.counters()).toMatchObject({ acked: PER_SP, duplicateAcks: 0, failed: 0, expired: 0 });
  // Doubled only where Tether said it could not know (gwA's requests in flight when it died).
  const doubled = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
  const serverStats = stats.backends[0].servers as Array<{ name: string; cmpp?: { ambiguous: number } }>;
  console.log(
    `storm: ${ACCOUNT_COUNT * PER_SP} SUBMITs, doubled ${doubled}, ambiguous ${ambiguous} (${serverStats.map((s) => `${s.name} ${s.cmpp?.ambiguous}`).join(', ')}), ` +
      `Tether refused cap ${accounts.reduce((n, a) => n + a.refusedCap, 0)} rate ${accounts.reduce((n, a) => n + a.refusedRate, 0)}, drain progress ${progress.join(' ')}`,
  );
  expect(doubled).toBeLessThanOrEqual(ambiguous);
  expect(serverStats.find((s) => s.name === 'gwB')?.cmpp?.ambiguous).toBe(0);
  expect(accounts.reduce((n, a) => n + a.ambiguous, 0)).toBe(ambiguous);

  // The gateways never had more of an account than the cap: none ever refused a login for too many connections.
  for (const g of everyGateway) expect(g.counters()[0].logins[5] ?? 0).toBe(0);
  // Tether refused the knocking connections itself, by cap and by rate.
  expect(accounts.reduce((n, a) => n + a.refusedCap, 0)).toBeGreaterThan(0);
  expect(accounts.reduce((n, a) => n + a.refusedRate, 0)).toBeGreaterThan(0);
  // And nobody is left on the drained gateway.
  expect((await servers())[1]).toMatchObject({ adminState: 'maint', scur: 0 });
}, 240_000);
