// Issue 12's REST surface attacked with odd input and the wrong roles, through the real app: drain deadline/then,
// shutdown-sessions' graceful, backend.cmpp (caps, overrides, login rates) on PATCH /backends, PUT /config and its
// dry run. Never a 5xx for what a client sent; a refusal has the error shape and changes nothing; the dry run says
// exactly what PUT /config does; viewers and operators can't do what needs a higher role, and are audited trying.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedApp, startApp } from '../helpers/app.js';
import { freePort, listen, named, type TestServer } from '../helpers/net.js';
import { backendBody, expectError, frontendBody, serverBody } from '../control-plane/fixtures.js';

let t: StartedApp;
let upstream: TestServer;

beforeAll(async () => {
  t = await startApp();
  upstream = await listen(named('one'));
  await t.request
    .post('/api/v1/backends')
    .send(backendBody('b', [serverBody('one', upstream.port)]))
    .expect(201);
  await t.request
    .post('/api/v1/frontends')
    .send(frontendBody('fe', await freePort(), 'b', { inspect: 'cmpp' }))
    .expect(201);
});
afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

const ODD: unknown[] = [
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53,
  604_800_001,
  '1e400',
  'Infinity',
  'NaN',
  '',
  ' ',
  '99999999999d',
  '8d',
  '-5s',
  '0x10',
  '1_000',
  '9'.repeat(400),
  [],
  [1],
  {},
  { a: 1 },
  null,
  true,
  false,
  '\u0000',
  'ä',
];

type Res = { status: number; body: Record<string, unknown> };

/** A refusal: 4xx with the error shape. */
function refused(what: string, res: Res): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
  expectError(res, res.status);
}

async function configNow(): Promise<Record<string, unknown>> {
  const res = await t.request.get('/api/v1/config').expect(200);
  return res.body as Record<string, unknown>;
}

describe('odd values are refused with a 4xx naming them, never a 5xx', () => {
  it('drain deadline / then / state / shutdownSessions', async () => {
    for (const v of ODD) {
      for (const body of [
        { state: 'drain', deadline: v },
        { state: 'drain', then: v },
        { state: v },
        { state: 'maint', shutdownSessions: v },
        { state: 'drain', deadline: 1000, then: v },
      ]) {
        const res = await t.request.put('/api/v1/backends/b/servers/one/state').send(body);
        if (res.status === 200) continue; // a valid one (maint without shutdownSessions, …)
        refused(`state ${JSON.stringify(body)}`, res);
      }
      // The whole body odd (an array, a string, null, a number).
      const raw = await t.request
        .put('/api/v1/backends/b/servers/one/state')
        .set('content-type', 'application/json')
        .send(JSON.stringify(v));
      refused(`state body ${JSON.stringify(v)}`, raw);
    }
    await t.request.put('/api/v1/backends/b/servers/one/state').send({ state: 'ready' }).expect(200);
  }, 120_000);

  it('graceful in the body (any JSON), in the query', async () => {
    for (const v of ODD) {
      if (typeof v === 'boolean') continue;
      for (const path of [
        '/api/v1/backends/b/servers/one/shutdown-sessions',
        '/api/v1/backends/b/shutdown-sessions',
      ]) {
        const body = await t.request
          .post(path)
          .set('content-type', 'application/json')
          .send(JSON.stringify({ graceful: v }));
        refused(`graceful ${JSON.stringify(v)}`, body);
        const query = await t.request.post(path).query({ graceful: String(v) });
        if (['0', '1', 'true', 'false'].includes(String(v))) expect(query.status).toBe(200);
        else refused(`?graceful=${String(v)}`, query);
        const raw = await t.request
          .post(path)
          .set('content-type', 'application/json')
          .send(JSON.stringify(v));
        expect(raw.status, `body ${JSON.stringify(v)}: ${JSON.stringify(raw.body)}`).toBeLessThan(500);
      }
    }
  }, 120_000);

  it('backend.cmpp: PATCH, and the dry run answers exactly what PUT /config does', async () => {
    const many = (n: number, f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i));
    const shapes: unknown[] = [
      ...ODD.flatMap((v) => [
        v,
        { maxConnectionsPerAccount: v },
        { closeTimeout: v },
        { loginRate: v },
        { loginRate: { perAccount: v } },
        { loginRate: { perSource: { logins: v, per: 1000 } } },
        { loginRate: { perSource: { logins: 1, per: v } } },
        { accounts: v },
        { accounts: [v] },
        { accounts: [{ account: v, maxConnections: 1 }] },
        { accounts: [{ account: 'a', maxConnections: v }] },
        { accounts: [{ account: 'a', loginRate: v }] },
      ]),
      { accounts: many(1000, (i) => ({ account: `a${i}`, maxConnections: 1 })) },
      { accounts: many(1001, (i) => ({ account: `a${i}`, maxConnections: 1 })) },
      { accounts: many(1000, () => ({ account: 'dup', maxConnections: 1 })) },
      { accounts: many(1000, (i) => ({ account: String.fromCodePoint(0x4e00 + i), maxConnections: i % 3 })) },
      { accounts: many(50, (i) => ({ account: `\u0000\u0001${i}`, maxConnections: 1 })) },
      { accounts: [{ account: '1234567', maxConnections: 1 }] },
      { accounts: [{ account: '短信通', maxConnections: 1 }] },
      { accounts: [{ account: 'x' }] },
      { loginRate: { perAccount: { logins: 100_000, per: 100 }, perSource: { logins: 1, per: 3_600_000 } } },
      { loginRate: { perAccount: { logins: 100_001, per: 100 } } },
      { loginRate: { perAccount: { logins: 1, per: 99 } } },
      { loginRate: { perAccount: { logins: 1, per: '1h' } } },
      { loginRate: { perAccount: { logins: 1, per: '61m' } } },
      { loginRate: {}, accounts: [] },
      { maxConnectionsPerAccount: 100_000, closeTimeout: '5m' },
      { maxConnectionsPerAccount: 100_001, closeTimeout: '301s' },
    ];
    for (const cmpp of shapes) {
      const label = JSON.stringify(cmpp)?.slice(0, 120) ?? String(cmpp);
      const before = await configNow();
      const patch = await t.request
        .patch('/api/v1/backends/b')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ cmpp }));
      if (patch.status !== 200) {
        refused(`PATCH cmpp ${label}`, patch);
        expect((await configNow()).revision, `PATCH ${label} changed nothing`).toBe(before.revision);
      }
      const doc = structuredClone(await configNow());
      delete doc.revision;
      (doc.backends as Array<Record<string, unknown>>)[0].cmpp = cmpp;
      const validate = await t.request.post('/api/v1/config/validate').send(doc);
      const put = await t.request.put('/api/v1/config').send(doc);
      expect(
        validate.status,
        `validate ${label}: ${JSON.stringify(validate.body).slice(0, 300)}`,
      ).toBeLessThan(500);
      expect(put.status, `PUT ${label}: ${JSON.stringify(put.body).slice(0, 300)}`).toBeLessThan(500);
      if (put.status === 200) expect(validate.status, `validate ${label}`).toBe(200);
      else {
        refused(`PUT cmpp ${label}`, put);
        expect({ status: validate.status, errors: validate.body.errors }, `validate ${label}`).toEqual({
          status: put.status,
          errors: put.body.errors,
        });
      }
    }
  }, 300_000);

  it('limits on a backend a non-inspecting frontend reaches: validate and PUT both 422 NOT_IMPLEMENTED', async () => {
    const doc = structuredClone(await configNow());
    delete doc.revision;
    (doc.backends as Array<Record<string, unknown>>)[0].cmpp = { maxConnectionsPerAccount: 2 };
    (doc.frontends as Array<Record<string, unknown>>)[0].inspect = 'none';
    const validate = await t.request.post('/api/v1/config/validate').send(doc);
    const put = await t.request.put('/api/v1/config').send(doc);
    expectError(put, 422);
    expect(put.body.code).toBe('NOT_IMPLEMENTED');
    expect({ status: validate.status, errors: validate.body.errors }).toEqual({
      status: put.status,
      errors: put.body.errors,
    });
  });
});

describe('roles', () => {
  it('a viewer may not drain or shut down; an operator may not change backend.cmpp or the config', async () => {
    const viewer = await t.as('viewer');
    const operator = await t.as('operator');
    const before = await configNow();
    const forbidden: Array<[string, Res]> = [
      [
        'viewer state',
        await viewer.put('/api/v1/backends/b/servers/one/state').send({ state: 'drain', deadline: 1 }),
      ],
      [
        'viewer server shutdown',
        await viewer.post('/api/v1/backends/b/servers/one/shutdown-sessions').send({ graceful: true }),
      ],
      [
        'viewer backend shutdown',
        await viewer.post('/api/v1/backends/b/shutdown-sessions').send({ graceful: true }),
      ],
      [
        'operator PATCH cmpp',
        await operator.patch('/api/v1/backends/b').send({ cmpp: { maxConnectionsPerAccount: 1 } }),
      ],
      [
        'operator PUT backend',
        await operator
          .put('/api/v1/backends/b')
          .send(backendBody('b', [], { cmpp: { maxConnectionsPerAccount: 1 } })),
      ],
      ['operator PUT config', await operator.put('/api/v1/config').send({ ...before, revision: undefined })],
    ];
    for (const [what, res] of forbidden) {
      expectError(res, 403);
      expect(res.body.code, what).toBe('FORBIDDEN');
    }
    expect((await configNow()).revision).toBe(before.revision);
    const state = (await t.request.get('/api/v1/backends/b/servers/one').expect(200)).body;
    expect(state.adminState).toBe('ready');
    // Allowed: an operator drains with a deadline, and it is audited under the operator's name.
    const op = await operator
      .put('/api/v1/backends/b/servers/one/state')
      .send({ state: 'drain', deadline: '1h' });
    expect(op.status, JSON.stringify(op.body)).toBe(200);
    const audit = await t.request
      .get('/api/v1/audit')
      .query({ action: 'server.state', result: 'ok', limit: 5 });
    expect(audit.body.items[0]).toMatchObject({ action: 'server.state', result: 'ok', target: 'b/one' });
    expect(audit.body.items[0].actor).not.toBe('admin');
    await t.request.put('/api/v1/backends/b/servers/one/state').send({ state: 'ready' }).expect(200);
  });
});
