// Timeouts and intervals take HAProxy's durations (`5s`, `500ms`, `1m`, `1h`, `2d`, `10us`) or plain
// milliseconds, through every door (whole document, backend create/patch, dry run); GET answers ms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { listen, named, type TestServer } from '../helpers/net.js';
import { addLiveFrontend, backendBody, expectError, refusedUnchanged, serverBody } from './fixtures.js';

let t: StartedApp;
let upstream: TestServer;
let livePort: number;

beforeAll(async () => {
  t = await startApp();
  upstream = await listen(named('up'));
  livePort = await addLiveFrontend(t, upstream.port);
});
afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

const DURATION_TEXT = 'must be a duration like 5s, 500ms, 1m or milliseconds';

async function currentDocument() {
  const { defaults, frontends, backends } = (await t.request.get('/api/v1/config')).body;
  return { defaults, frontends, backends };
}

describe('durations in the API', () => {
  it('takes HAProxy durations in defaults.timeouts and answers milliseconds', async () => {
    const doc = await currentDocument();
    doc.defaults.timeouts = { connect: '5s', client: '1h', server: '2d', check: '500ms' };
    const dry = await t.request.post('/api/v1/config/validate').send(doc);
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.changes).toContainEqual({
      path: 'defaults.timeouts.server',
      kind: 'changed',
      before: 3_600_000,
      after: 172_800_000,
    });
    const put = await t.request.put('/api/v1/config').send(doc);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await t.request.get('/api/v1/config')).body.defaults.timeouts).toEqual({
      connect: 5000,
      client: 3_600_000,
      server: 172_800_000,
      check: 500,
    });
  });

  it('takes durations and numeric strings in check.inter and check.timeout, on create and on patch', async () => {
    const created = await t.request.post('/api/v1/backends').send(
      backendBody('d1', [serverBody('s1', upstream.port)], {
        check: { type: 'tcp', inter: '1m', timeout: '10us' },
      }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.check).toMatchObject({ inter: 60_000, timeout: 1 });
    const patched = await t.request
      .patch('/api/v1/backends/d1')
      .send({ check: { type: 'tcp', inter: '2s', timeout: '750' } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const read = await t.request.get('/api/v1/backends/d1');
    expect(read.body.check).toMatchObject({ inter: 2000, timeout: 750 });
  });

  it('refuses a malformed duration naming the field, the accepted spellings and the range, changing nothing', async () => {
    const res = await refusedUnchanged(
      t,
      livePort,
      () =>
        t.request
          .post('/api/v1/backends')
          .send(backendBody('d2', [], { check: { type: 'tcp', inter: 'fast' } })),
      400,
      'check.inter',
    );
    expect(res.body.message).toBe(`check.inter ${DURATION_TEXT}, from 10ms to 1d, got "fast"`);
  });

  it('refuses a duration out of range in the same units', async () => {
    const res = await refusedUnchanged(
      t,
      livePort,
      () =>
        t.request
          .post('/api/v1/backends')
          .send(backendBody('d3', [], { check: { type: 'tcp', inter: '5ms', timeout: '2d' } })),
      400,
    );
    const messages = (res.body.errors as Array<{ field: string; message: string }>).map(
      (e) => `${e.field}: ${e.message}`,
    );
    expect(messages).toContain(`check.inter: check.inter ${DURATION_TEXT}, from 10ms to 1d, got 5ms`);
    expect(messages).toContain(`check.timeout: check.timeout ${DURATION_TEXT}, from 1ms to 1d, got 2d`);
  });

  it('answers a dry run exactly as the change itself', async () => {
    const doc = await currentDocument();
    doc.defaults.timeouts = { ...doc.defaults.timeouts, connect: '5 s', check: '0' };
    const dry = await t.request.post('/api/v1/config/validate').send(doc);
    const put = await refusedUnchanged(t, livePort, () => t.request.put('/api/v1/config').send(doc), 400);
    expectError(dry, 400);
    expect(dry.body).toEqual(put.body);
    expect(put.body.errors).toEqual([
      {
        field: 'defaults.timeouts.connect',
        code: 'VALIDATION_FAILED',
        message: `defaults.timeouts.connect ${DURATION_TEXT}, from 1ms to 2147483647ms, got "5 s"`,
      },
      {
        field: 'defaults.timeouts.check',
        code: 'VALIDATION_FAILED',
        message: `defaults.timeouts.check ${DURATION_TEXT}, from 1ms to 2147483647ms, got 0ms`,
      },
    ]);
  });
});
