// CMPP inspection through the real app (issue 11 point 3): a frontend created with inspect: cmpp over REST,
// real CMPP traffic, and the counts in GET /api/v1/stats, /metrics and GET /api/v1/sessions.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { freePort, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from './fixtures.js';

let app: StartedApp;
let gateway: Gateway;
let port: number;

beforeAll(async () => {
  gateway = await cmppGateway({
    loginStatus: (account) => (account === '900009' ? 2 : 0),
    submitResult: (seq) => (seq % 4 === 0 ? 8 : 0),
  });
  app = await startApp();
  port = await freePort();
  await app.request
    .post('/api/v1/backends')
    .send(backendBody('gw', [serverBody('gw1', gateway.port)]))
    .expect(201);
  const created = await app.request
    .post('/api/v1/frontends')
    .send(frontendBody('sms', port, 'gw', { inspect: 'cmpp' }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
});

afterAll(async () => {
  await app?.close();
  await gateway?.close();
});

it('counts real CMPP traffic in /stats, /metrics and /sessions', async () => {
  const sp = await Sp.connect(port, '127.0.0.7');
  try {
    expect((await sp.login('900001')).commandId).toBe(CommandId.CONNECT_RESP);
    gateway.hold = true;
    sp.socket.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => sp.submit(i + 1, '900001'))));
    await waitFor(() => gateway.received.filter((f) => f.commandId === CommandId.SUBMIT).length === 10);
    const listed = await app.request.get('/api/v1/sessions').expect(200);
    expect(listed.body).toEqual([
      expect.objectContaining({
        clientAddress: '127.0.0.7',
        account: '900001',
        cmppVersion: '3.0',
        outstanding: { up: 10, down: 0 },
      }),
    ]);
    gateway.release();
    await sp.next(10);
    await sp.terminate(11);
  } finally {
    sp.close();
  }
  const refused = await Sp.connect(port, '127.0.0.8');
  await refused.login('900009');
  refused.close();

  const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
  const fe = stats.frontends.find((f: { name: string }) => f.name === 'sms').cmpp;
  expect(fe).toMatchObject({
    sessions: 2,
    notCmpp: 0,
    up: { connect: 2, submit: 10, terminate: 1, other: 0 },
    down: { connectResp: 2, submitResp: 10, terminateResp: 1, other: 0 },
    submitResults: { ok: 8, throttled: 2, other: 0 },
    connectStatus: { '0': 1, '2': 1 },
    outstanding: { up: 0, down: 0 },
  });
  expect(fe.latency.counts.reduce((a: number, b: number) => a + b, 0)).toBe(10);
  expect(stats.backends[0].servers[0].cmpp).toMatchObject({
    up: { submit: 10 },
    submitResults: { throttled: 2 },
  });
  expect(stats.cmppAccounts.map((a: { account: string }) => a.account)).toEqual(['900001', '900009']);
  expect(stats.cmppAccounts[1]).toMatchObject({ connectStatus: { '2': 1 }, up: { connect: 1, submit: 0 } });

  const metrics = (await app.request.get('/metrics').expect(200)).text;
  for (const line of [
    'tether_cmpp_frontend_frames_total{proxy="sms",direction="up",command="submit"} 10',
    'tether_cmpp_frontend_submit_results_total{proxy="sms",result="throttled"} 2',
    'tether_cmpp_frontend_connect_status_total{proxy="sms",status="2"} 1',
    'tether_cmpp_server_submit_results_total{proxy="gw",server="gw1",result="ok"} 8',
    'tether_cmpp_frontend_submit_latency_seconds_count{proxy="sms"} 10',
    'tether_cmpp_frontend_submit_latency_seconds_bucket{proxy="sms",le="+Inf"} 10',
    'tether_cmpp_account_submits_total{account="900001"} 10',
  ])
    expect(metrics.split('\n')).toContain(line);
  // 900009 never logged in: listed in GET /stats, counted per frontend, but no series of its own in /metrics (a
  // client naming accounts must not make series; docs/cmpp-inspection.md).
  expect(metrics).not.toContain('account="900009"');
  expect(metrics).toContain('# TYPE tether_cmpp_frontend_submit_latency_seconds histogram');
});

it('stops inspecting when the frontend is set back to inspect: none (new sessions are not counted)', async () => {
  await app.request.patch('/api/v1/frontends/sms').send({ inspect: 'none' }).expect(200);
  const before = (await app.request.get('/api/v1/stats').expect(200)).body.frontends[0].cmpp;
  const sp = await Sp.connect(port);
  try {
    await sp.login('900001');
  } finally {
    sp.close();
  }
  const after = (await app.request.get('/api/v1/stats').expect(200)).body.frontends[0].cmpp;
  expect(after.up.connect).toBe(before.up.connect);
  expect(after.sessions).toBe(before.sessions);
});
