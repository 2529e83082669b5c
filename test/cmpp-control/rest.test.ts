// The lossless close through the real app: `graceful` on POST .../servers/:s/shutdown-sessions and on the new
// POST /backends/:b/shutdown-sessions (body or query; old calls unchanged: they cut), `backend.cmpp.closeTimeout`
// (validated, stored, exported as a note), onMarkedDown: terminate, and `ambiguous` in /stats and /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTerminateResp } from '../../src/cmpp/codec.js';
import { CommandId } from '../../src/cmpp/commands.js';
import { TETHER_SEQUENCE_ID } from '../../src/runtime/cmpp-close.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { closed, freePort, waitFor } from '../helpers/net.js';
import { backendBody, expectError, frontendBody, serverBody } from '../control-plane/fixtures.js';

let app: StartedApp;
let gateway: Gateway;
let port: number;

beforeAll(async () => {
  gateway = await cmppGateway();
  app = await startApp();
  port = await freePort();
  const created = await app.request
    .post('/api/v1/backends')
    .send(backendBody('gw', [serverBody('gw1', gateway.port)], { cmpp: { closeTimeout: '700ms' } }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  await app.request
    .post('/api/v1/frontends')
    .send(frontendBody('sms', port, 'gw', { inspect: 'cmpp' }))
    .expect(201);
});

afterAll(async () => {
  await app?.close();
  await gateway?.close();
});

async function loggedIn(localAddress: string): Promise<Sp> {
  const sp = await Sp.connect(port, localAddress);
  expect((await sp.login('900001')).commandId).toBe(CommandId.CONNECT_RESP);
  return sp;
}

/** Whether the SP's session ended with Tether's TERMINATE (answered) or was just cut. */
async function howItEnded(sp: Sp): Promise<'terminate' | 'cut'> {
  const gone = new Promise<undefined>((resolve) => sp.socket.once('close', () => resolve(undefined)));
  const [first] = (await Promise.race([sp.next(1, 3000), gone]).catch(() => undefined)) ?? [];
  if (first === undefined) {
    await closed(sp.socket);
    return 'cut';
  }
  expect(first).toMatchObject({ commandId: CommandId.TERMINATE, sequenceId: TETHER_SEQUENCE_ID });
  sp.socket.write(encodeTerminateResp(first.sequenceId));
  await closed(sp.socket);
  return 'terminate';
}

describe('shutdown-sessions graceful over REST', () => {
  it('the old call cuts; graceful in the body or the query closes the CMPP way', async () => {
    const cases: Array<[string, object | undefined, 'terminate' | 'cut']> = [
      ['/api/v1/backends/gw/servers/gw1/shutdown-sessions', undefined, 'cut'],
      ['/api/v1/backends/gw/servers/gw1/shutdown-sessions', { graceful: false }, 'cut'],
      ['/api/v1/backends/gw/servers/gw1/shutdown-sessions', { graceful: true }, 'terminate'],
      ['/api/v1/backends/gw/servers/gw1/shutdown-sessions?graceful=true', undefined, 'terminate'],
      ['/api/v1/backends/gw/shutdown-sessions', { graceful: true }, 'terminate'],
      ['/api/v1/backends/gw/shutdown-sessions', undefined, 'cut'],
    ];
    for (const [i, [path, body, expected]] of cases.entries()) {
      const sp = await loggedIn(`127.0.0.${30 + i}`);
      const req = app.request.post(path);
      const res = body === undefined ? await req : await req.send(body);
      expect(res.status, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body).toEqual({ closed: 1 });
      expect(await howItEnded(sp), `${path} ${JSON.stringify(body)}`).toBe(expected);
      await waitFor(async () => (await app.request.get('/api/v1/sessions')).body.length === 0);
    }
    const audit = (await app.request.get('/api/v1/audit?limit=10').expect(200)).body;
    const entries = (audit.items ?? audit) as Array<{ action: string; detail: string }>;
    expect(entries.some((e) => e.action === 'backend.shutdown-sessions')).toBe(true);
    expect(entries.some((e) => /closing gracefully/.test(e.detail))).toBe(true);
  });

  it('refuses a bad graceful, an unknown backend or server, and changes nothing', async () => {
    const sp = await loggedIn('127.0.0.40');
    try {
      expectError(
        await app.request.post('/api/v1/backends/gw/servers/gw1/shutdown-sessions?graceful=maybe'),
        400,
        'graceful',
      );
      expectError(
        await app.request.post('/api/v1/backends/gw/servers/gw1/shutdown-sessions').send({ graceful: 'yes' }),
        400,
        'graceful',
      );
      expectError(
        await app.request
          .post('/api/v1/backends/gw/servers/gw1/shutdown-sessions?graceful=false')
          .send({ graceful: true }),
        400,
        'graceful',
      );
      expectError(await app.request.post('/api/v1/backends/gw/shutdown-sessions').send({ bogus: 1 }), 400);
      expect((await app.request.post('/api/v1/backends/nope/shutdown-sessions')).status).toBe(404);
      expect((await app.request.post('/api/v1/backends/gw/servers/nope/shutdown-sessions')).status).toBe(404);
      expect((await app.request.get('/api/v1/sessions')).body).toHaveLength(1);
    } finally {
      sp.close();
    }
    await waitFor(async () => (await app.request.get('/api/v1/sessions')).body.length === 0);
  });

  it('the hard limit of backend.cmpp.closeTimeout counts the SUBMITs in flight as ambiguous in /stats and /metrics', async () => {
    const sp = await loggedIn('127.0.0.41');
    gateway.hold = true;
    try {
      sp.socket.write(Buffer.concat(Array.from({ length: 5 }, (_, i) => sp.submit(i + 1, '900001'))));
      await waitFor(() => gateway.received.filter((f) => f.commandId === CommandId.SUBMIT).length === 5);
      const started = Date.now();
      await app.request
        .post('/api/v1/backends/gw/servers/gw1/shutdown-sessions')
        .send({ graceful: true })
        .expect(200);
      expect(await howItEnded(sp)).toBe('terminate');
      // 700 ms from the config, not the 5 s default.
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      gateway.hold = false;
      gateway.release();
    }
    await waitFor(async () => (await app.request.get('/api/v1/sessions')).body.length === 0);
    const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
    expect(stats.frontends[0].cmpp.ambiguous).toBe(5);
    expect(stats.cmppAccounts.find((a: { account: string }) => a.account === '900001').ambiguous).toBe(5);
    const metrics = (await app.request.get('/metrics').expect(200)).text.split('\n');
    expect(metrics).toContain('tether_cmpp_frontend_ambiguous_messages_total{proxy="sms"} 5');
    expect(metrics).toContain('tether_cmpp_account_ambiguous_messages_total{account="900001"} 5');
  });
});

describe('backend.cmpp.closeTimeout and onMarkedDown: terminate', () => {
  it('are validated, stored, shown and exported as notes', async () => {
    expect((await app.request.get('/api/v1/backends/gw').expect(200)).body.cmpp).toEqual({
      closeTimeout: 700,
    });
    expectError(
      await app.request.patch('/api/v1/backends/gw').send({ cmpp: { closeTimeout: 50 } }),
      400,
      'cmpp.closeTimeout',
    );
    expectError(
      await app.request.patch('/api/v1/backends/gw').send({ cmpp: { closeTimeout: 1000, other: 1 } }),
      400,
    );
    expectError(
      await app.request.patch('/api/v1/backends/gw').send({ onMarkedDown: 'sometimes' }),
      400,
      'onMarkedDown',
    );
    expect((await app.request.get('/api/v1/backends/gw').expect(200)).body.cmpp).toEqual({
      closeTimeout: 700,
    });
    const patched = await app.request
      .patch('/api/v1/backends/gw')
      .send({ onMarkedDown: 'terminate', cmpp: { closeTimeout: '2s' } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ onMarkedDown: 'terminate', cmpp: { closeTimeout: 2000 } });
    // The whole document too (PUT /config takes what GET gives).
    const config = (await app.request.get('/api/v1/config').expect(200)).body;
    const backend = config.backends.find((b: { name: string }) => b.name === 'gw');
    expect(backend).toMatchObject({ onMarkedDown: 'terminate', cmpp: { closeTimeout: 2000 } });
    const bad = structuredClone(config);
    bad.backends[0].cmpp = { closeTimeout: 400_000 };
    const refused = await app.request.put('/api/v1/config').send(bad);
    expectError(refused, 400);
    expect(refused.body.field).toMatch(/^backends\[?\.?0\]?\.cmpp\.closeTimeout$/);
    expect((await app.request.get('/api/v1/backends/gw').expect(200)).body.cmpp).toEqual({
      closeTimeout: 2000,
    });
    const cfg = (await app.request.get('/api/v1/export/haproxy.cfg').expect(200)).text;
    expect(cfg).toContain('on-marked-down shutdown-sessions');
    expect(cfg).toContain('# on-marked-down terminate');
    expect(cfg).toContain('# cmpp closeTimeout 2000ms');
  });
});
