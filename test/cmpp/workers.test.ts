// Issue 11 points 2–4 on the pool path (docs/workers.md): the compiled appliance with TETHER_WORKERS=2, as an
// operator runs it. SP sessions spread by the kernel over both workers; the inspection counts in GET /stats,
// /metrics and /sessions are the sums over the workers; cmpp-account sends an account to one gateway whichever
// worker accepted it, also with its CONNECT split over reads, and the impact report counts clients by account;
// an account's version is its last CONNECT's; the login check (run once, in the main process) shows its HAProxy
// status, code and text in the runtime socket's `show stat` and in REST.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeFrame, encodeConnect } from '../../src/cmpp/codec.js';
import { startGateway, type GatewaySim } from '../../src/sim/gateway.js';
import { backendBody, serverBody } from '../control-plane/fixtures.js';
import { tempDbPath } from '../helpers/app.js';
import { loginToken, TEST_ADMIN_PASSWORD, withBearer, type Client } from '../helpers/auth.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import {
  compileApp,
  startAppliance,
  untilListening,
  type ApplianceProcess,
  type CompiledApp,
} from '../helpers/compiled-app.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';
import { appWithStoredRoute } from '../helpers/stored-route.js';
import { send } from '../socket/cli.js';
import { openEventStream } from '../stats/sse.js';

const ACCOUNTS = ['900001', '900002', '900003'];
const SUBMITS = 8; // per session; sequence ids 1..8, of which 4 and 8 are throttled (result 8)
const SESSIONS_PER_ACCOUNT = 4;

let compiled: CompiledApp;
let gateways: Gateway[] = [];
let sim: GatewaySim;
let appliance: ApplianceProcess;
let db: ReturnType<typeof tempDbPath>;
let api: Client;
let url: string;
let token: string;
let port: number;
let socketPath: string;

beforeAll(async () => {
  compiled = await compileApp();
  for (let i = 0; i < 3; i++)
    gateways.push(
      await cmppGateway({
        loginStatus: (account) => (account === '900009' ? 3 : 0),
        submitResult: (seq) => (seq % 4 === 0 ? 8 : 0),
      }),
    );
  sim = await startGateway({ ports: [0], accounts: [{ account: '901234', secret: 'right' }] });
  db = tempDbPath();
  socketPath = join(db.dbPath, '..', 'tether.sock');
  port = await freePort();
  const setup = await appWithStoredRoute(db.dbPath, gateways[0].port, port, { inspect: 'cmpp' });
  try {
    const sms = await setup.request.patch('/api/v1/backends/b').send({
      balance: 'cmpp-account',
      servers: gateways.map((g, i) => serverBody(`gw${i + 1}`, g.port)),
    });
    expect(sms.status, JSON.stringify(sms.body)).toBe(200);
    for (const [name, secret] of [
      ['ok', 'right'],
      ['bad', 'wrong'],
    ])
      await setup.request
        .post('/api/v1/backends')
        .send(
          backendBody('x', [serverBody('gw', sim.ports[0])], {
            name,
            check: {
              type: 'cmpp',
              inter: 200,
              fall: 1,
              rise: 1,
              timeout: 2000,
              cmpp: { sourceAddr: '901234', secret, version: '3.0' },
            },
          }),
        )
        .expect(201);
  } finally {
    await setup.close();
  }
  const httpPort = await freePort();
  appliance = startAppliance(compiled.main, {
    TETHER_DB: db.dbPath,
    TETHER_SOCKET: socketPath,
    TETHER_HTTP_PORT: String(httpPort),
    TETHER_LOG_LEVEL: 'log',
    TETHER_WORKERS: '2',
    TETHER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
  });
  await untilListening(appliance);
  url = `http://127.0.0.1:${httpPort}`;
  token = await loginToken(url, 'admin', TEST_ADMIN_PASSWORD);
  api = withBearer(url, token);
  await waitFor(async () => {
    const res = await api.get('/api/v1/stats');
    return (
      res.status === 200 &&
      res.body.workers.filter((w: { state: string }) => w.state === 'running').length === 2
    );
  }, 30_000);
}, 120_000);

afterAll(async () => {
  appliance?.child.kill('SIGKILL');
  await appliance?.exited;
  for (const g of gateways) await g.close();
  gateways = [];
  await sim?.close();
  db?.cleanup();
  compiled?.remove();
});

interface Listed {
  id: string;
  clientPort: number;
  server?: string;
  account?: string;
  cmppVersion?: string;
}

it('sums the inspection counts of both workers and keeps each account on one gateway', async () => {
  const sps: Sp[] = [];
  try {
    // Sessions from distinct sources (the kernel spreads them over the workers), CONNECTs in three reads.
    let source = 1;
    for (const account of ACCOUNTS)
      for (let i = 0; i < SESSIONS_PER_ACCOUNT; i++) {
        const sp = await Sp.connect(port, `127.0.11.${source++}`);
        sps.push(sp);
        expect(decodeFrame((await sp.login(account, 3, 20)).bytes)).toMatchObject({ status: 0 });
      }
    const refused = await Sp.connect(port, `127.0.11.${source++}`);
    sps.push(refused);
    expect(decodeFrame((await refused.login('900009')).bytes)).toMatchObject({ status: 3 });

    const listed: Listed[] = (await api.get('/api/v1/sessions').expect(200)).body;
    const mine = listed.filter((s) => s.account !== undefined && s.account !== '900009');
    expect(mine).toHaveLength(ACCOUNTS.length * SESSIONS_PER_ACCOUNT);
    // Both workers carry sessions (otherwise this test says nothing about the pool's sums).
    expect(new Set(mine.map((s) => s.id.split(':')[0])).size).toBe(2);
    for (const account of ACCOUNTS) {
      const servers = new Set(mine.filter((s) => s.account === account).map((s) => s.server));
      expect(servers.size, `${account} on ${[...servers].join(', ')}`).toBe(1);
    }
    expect(mine.every((s) => s.cmppVersion === '3.0')).toBe(true);

    // The impact report (a dry run) counts clients by account, whichever worker holds their sessions.
    const config = (await api.get('/api/v1/config').expect(200)).body;
    config.backends.find((b: { name: string }) => b.name === 'b').servers.shift(); // gw1 leaves
    const validated = await api.post('/api/v1/config/validate').send(config);
    expect(validated.status, JSON.stringify(validated.body)).toBe(200);
    const accounts = new Set(listed.map((s) => s.account));
    const moved = new Set(listed.filter((s) => s.server === 'gw1').map((s) => s.account));
    expect(accounts.size).toBe(ACCOUNTS.length + 1);
    expect(validated.body.impact.rehashed).toEqual([
      { backend: 'b', clients: accounts.size, moved: moved.size, share: moved.size / accounts.size },
    ]);

    for (const sp of sps.slice(0, -1)) {
      sp.socket.write(Buffer.concat(Array.from({ length: SUBMITS }, (_, i) => sp.submit(i + 1, '900001'))));
      await sp.next(SUBMITS);
    }
  } finally {
    for (const sp of sps) sp.close();
  }

  const total = ACCOUNTS.length * SESSIONS_PER_ACCOUNT * SUBMITS;
  const stats = (await api.get('/api/v1/stats').expect(200)).body;
  const fe = stats.frontends.find((f: { name: string }) => f.name === 'fe').cmpp;
  expect(fe).toMatchObject({
    sessions: ACCOUNTS.length * SESSIONS_PER_ACCOUNT + 1,
    notCmpp: 0,
    up: { connect: ACCOUNTS.length * SESSIONS_PER_ACCOUNT + 1, submit: total },
    down: { connectResp: ACCOUNTS.length * SESSIONS_PER_ACCOUNT + 1, submitResp: total },
    submitResults: { ok: (total * 3) / 4, throttled: total / 4, other: 0 },
    connectStatus: { '0': ACCOUNTS.length * SESSIONS_PER_ACCOUNT, '3': 1 },
  });
  expect(fe.latency.counts.reduce((a: number, b: number) => a + b, 0)).toBe(total);
  const servers = stats.backends.find((b: { name: string }) => b.name === 'b').servers;
  expect(
    servers.reduce((n: number, s: { cmpp?: { up: { submit: number } } }) => n + (s.cmpp?.up.submit ?? 0), 0),
  ).toBe(total);
  for (const account of ACCOUNTS)
    expect(stats.cmppAccounts.find((a: { account: string }) => a.account === account)).toMatchObject({
      sessions: SESSIONS_PER_ACCOUNT,
      version: '3.0',
      up: { submit: SESSIONS_PER_ACCOUNT * SUBMITS },
      submitResults: { throttled: SESSIONS_PER_ACCOUNT * 2 },
    });
  expect(stats.cmppAccounts.find((a: { account: string }) => a.account === '900009')).toMatchObject({
    connectStatus: { '3': 1 },
  });

  // The console's live figures (SUBMIT/s, results, latency per gateway) come from the stream: the same sums.
  const stream = await openEventStream(`${url}/api/v1/stats/stream`, { Authorization: `Bearer ${token}` });
  try {
    const event = await stream.next((e) => e.type === 'stats', 0, 5000);
    const live = event.data as typeof stats;
    expect(live.frontends.find((f: { name: string }) => f.name === 'fe').cmpp).toMatchObject({
      up: { submit: total },
      submitResults: fe.submitResults,
      connectStatus: fe.connectStatus,
      latency: { counts: fe.latency.counts },
    });
    const liveServers = live.backends.find((b: { name: string }) => b.name === 'b').servers;
    expect(liveServers.map((s: { cmpp?: unknown }) => s.cmpp)).toEqual(
      servers.map((s: { cmpp?: unknown }) => s.cmpp),
    );
  } finally {
    stream.close();
  }

  const metrics = (await api.get('/metrics').expect(200)).text.split('\n');
  for (const line of [
    `tether_cmpp_frontend_frames_total{proxy="fe",direction="up",command="submit"} ${total}`,
    `tether_cmpp_frontend_submit_results_total{proxy="fe",result="throttled"} ${total / 4}`,
    `tether_cmpp_frontend_submit_latency_seconds_count{proxy="fe"} ${total}`,
    `tether_cmpp_account_submits_total{account="900001"} ${SESSIONS_PER_ACCOUNT * SUBMITS}`,
  ])
    expect(metrics).toContain(line);
}, 60_000);

it('shows the login check as HAProxy does in show stat, show servers state and REST', async () => {
  const rows = async () => {
    const [header, ...lines] = (await send(socketPath, 'show stat\n')).trim().split('\n');
    const names = header.replace(/^# /, '').split(',');
    return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i], v])));
  };
  await waitFor(async () => {
    const r = await rows();
    return (
      r.find((x) => x.pxname === 'ok' && x.svname === 'gw')?.check_status === 'L7OK' &&
      r.find((x) => x.pxname === 'bad' && x.svname === 'gw')?.status === 'DOWN'
    );
  }, 10_000);
  const r = await rows();
  expect(r.find((x) => x.pxname === 'ok' && x.svname === 'gw')).toMatchObject({
    status: 'UP',
    check_status: 'L7OK',
    check_code: '0',
    check_desc: 'Layer7 check passed',
    last_chk: '',
  });
  expect(r.find((x) => x.pxname === 'bad' && x.svname === 'gw')).toMatchObject({
    status: 'DOWN',
    check_status: 'L7STS',
    check_code: '3',
    check_desc: 'Layer7 wrong status',
    last_chk: 'CMPP 3.0 login refused: status 3 (authentication failed)',
  });
  // HAProxy's numbers: srv_op_state 0 (stopped), srv_check_status 17 (HCHK_STATUS_L7STS).
  const state = (await send(socketPath, 'show servers state bad\n')).trim().split('\n').pop()!.split(' ');
  expect([state[5], state[10]]).toEqual(['0', '17']);

  const stats = (await api.get('/api/v1/stats').expect(200)).body;
  const server = (name: string) => stats.backends.find((b: { name: string }) => b.name === name).servers[0];
  expect(server('ok')).toMatchObject({
    health: 'UP',
    check_status: 'L7OK',
    check_code: 0,
    check_desc: 'CMPP 3.0 login ok (status 0)',
  });
  expect(server('bad')).toMatchObject({
    health: 'DOWN',
    check_status: 'L7STS',
    check_code: 3,
    check_desc: 'CMPP 3.0 login refused: status 3 (authentication failed)',
  });
}, 30_000);

it("shows an account's version as its last CONNECT's, whichever worker saw it", async () => {
  const account = '900005';
  const sps: Sp[] = [];
  try {
    // Two connections on each worker (the kernel spreads them; bounded: 24 sources).
    const byWorker = new Map<string, Sp[]>();
    for (
      let i = 1;
      i <= 24 && !(byWorker.size === 2 && [...byWorker.values()].every((l) => l.length >= 2));
      i++
    ) {
      const sp = await Sp.connect(port, `127.0.12.${i}`);
      sps.push(sp);
      const local = sp.socket.localPort;
      const id = await waitFor(async () => {
        const listed: Listed[] = (await api.get('/api/v1/sessions').expect(200)).body;
        return listed.find((s) => s.clientPort === local)?.id;
      });
      const worker = id.split(':')[0];
      byWorker.set(worker, [...(byWorker.get(worker) ?? []), sp]);
    }
    const [p, q] = [...byWorker.values()];
    expect(p.length >= 2 && q.length >= 1, 'two connections on one worker, one on the other').toBe(true);
    const login = async (sp: Sp, version: '2.0' | '3.0') => {
      sp.socket.write(encodeConnect({ sequenceId: 1, account, secret: 's', timestamp: 1205143000, version }));
      await sp.next(1);
      await sleep(5); // the next CONNECT is seen at a later millisecond
    };
    const shown = async () =>
      (
        (await api.get('/api/v1/stats').expect(200)).body.cmppAccounts as Array<{
          account: string;
          version: string;
        }>
      ).find((a) => a.account === account)?.version;
    // Whichever order the pool merges the workers' rows in, one of these two would show the other worker's.
    await login(p[0], '2.0');
    await login(q[0], '3.0');
    expect(await shown()).toBe('3.0');
    await login(p[1], '2.0');
    expect(await shown()).toBe('2.0');
  } finally {
    for (const sp of sps) sp.close();
  }
}, 60_000);
