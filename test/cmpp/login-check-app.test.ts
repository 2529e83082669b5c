// The CMPP login check through the real app (issue 11, point 2): a backend configured over REST with
// check.type cmpp logs in to the gateway simulator; stats show L7OK with a good account and L7STS (and the
// server DOWN) with a wrong secret; changing the secret over REST brings it back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { startGateway, type GatewaySim } from '../../src/sim/gateway.js';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { waitFor } from '../helpers/net.js';
import { readDatabase, writeDatabase } from '../helpers/sqlite.js';

let t: StartedApp;
let gateway: GatewaySim;

beforeAll(async () => {
  gateway = await startGateway({ ports: [0, 0], accounts: [{ account: '901234', secret: 'right' }] });
  t = await startApp();
});
afterAll(async () => {
  await t?.close();
  await gateway?.close();
});

const body = (secret: string) => ({
  name: 'ismg',
  balance: 'cmpp-account',
  check: {
    type: 'cmpp',
    inter: 100,
    fall: 1,
    rise: 1,
    timeout: 2000,
    cmpp: { sourceAddr: '901234', secret, version: '3.0' },
  },
  servers: gateway.ports.map((port, i) => ({ name: `gw${i + 1}`, address: '127.0.0.1', port })),
});

async function servers() {
  const res = await t.request.get('/api/v1/stats');
  expect(res.status).toBe(200);
  return (res.body as RuntimeStats).backends.find((b) => b.name === 'ismg')!.servers;
}

it('shows L7OK for a good login and L7STS with the status meaning for a refused one', async () => {
  const created = await t.request.post('/api/v1/backends').send(body('right'));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  await waitFor(async () => (await servers()).every((s) => s.check_status === 'L7OK'), 10_000, 'both L7OK');
  for (const s of await servers()) {
    expect(s).toMatchObject({ health: 'UP', check_code: 0, check_desc: 'CMPP 3.0 login ok (status 0)' });
  }
  // Every node saw real logins and the check's TERMINATE.
  for (const node of gateway.counters()) {
    expect(node.logins[0]).toBeGreaterThan(0);
    expect(node.terminates).toBeGreaterThan(0);
  }

  const changed = await t.request.patch('/api/v1/backends/ismg').send({ check: body('wrong').check });
  expect(changed.status, JSON.stringify(changed.body)).toBe(200);
  await waitFor(async () => (await servers()).every((s) => s.health === 'DOWN'), 10_000, 'both DOWN');
  for (const s of await servers()) {
    expect(s).toMatchObject({
      check_status: 'L7STS',
      check_code: 3,
      check_desc: 'CMPP 3.0 login refused: status 3 (authentication failed)',
    });
  }
  for (const node of gateway.counters()) expect(node.logins[3]).toBeGreaterThan(0);

  const fixed = await t.request.patch('/api/v1/backends/ismg').send({ check: body('right').check });
  expect(fixed.status).toBe(200);
  await waitFor(
    async () => (await servers()).every((s) => s.health === 'UP' && s.check_status === 'L7OK'),
    10_000,
    'UP again',
  );
});

it("takes the README tour's change as written: a plain backend patched to cmpp-account with a cmpp check", async () => {
  const created = await t.request.post('/api/v1/backends').send({
    name: 'tour',
    servers: gateway.ports.map((port, i) => ({ name: `gw${i + 1}`, address: '127.0.0.1', port })),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const patched = await t.request.patch('/api/v1/backends/tour').send({
    balance: 'cmpp-account',
    check: {
      type: 'cmpp',
      inter: 5000,
      fall: 3,
      rise: 2,
      cmpp: { sourceAddr: '901234', secret: 'right', version: '3.0' },
    },
  });
  expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  const tour = async () =>
    ((await t.request.get('/api/v1/stats')).body as RuntimeStats).backends.find((b) => b.name === 'tour')!
      .servers;
  await waitFor(
    async () => (await tour()).every((s) => s.check_status === 'L7OK'),
    15_000,
    'tour servers L7OK',
  );
});

it('refuses check.cmpp on a check that is not cmpp, naming the field, and changes nothing', async () => {
  const before = await t.request.get('/api/v1/backends/ismg').expect(200);
  expect(before.body.check.type).toBe('cmpp');
  // `check` is replaced whole by a PATCH: without its type it would silently become a tcp connect check.
  for (const check of [
    { cmpp: { sourceAddr: '901234', secret: 'right', version: '3.0' } },
    { type: 'tcp', cmpp: { sourceAddr: '901234', secret: 'right', version: '3.0' } },
    { type: 'none', cmpp: { sourceAddr: '901234', secret: '********', version: '3.0' } },
  ]) {
    const res = await t.request.patch('/api/v1/backends/ismg').send({ check });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        field: 'check.cmpp',
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining('is used by a cmpp check only'),
      }),
    ]);
  }
  const after = await t.request.get('/api/v1/backends/ismg').expect(200);
  expect(after.body.check).toEqual(before.body.check);
  expect(after.headers.etag).toBe(before.headers.etag);
});

it('still loads and keeps a backend stored with check.cmpp on a tcp check (before that was refused)', async () => {
  const db = tempDbPath();
  try {
    let app = await startApp({ dbPath: db.dbPath });
    await app.request
      .post('/api/v1/backends')
      .send({ ...body('right'), name: 'old' })
      .expect(201);
    await app.close();
    // What a PATCH of check without its type stored until then: type tcp, the cmpp settings kept (in the head
    // revision's snapshot and the backends table).
    writeDatabase(db.dbPath, (sqlite) => {
      const head = sqlite.prepare('SELECT id, snapshot FROM revisions ORDER BY id DESC LIMIT 1').get() as {
        id: number;
        snapshot: string;
      };
      const snapshot = JSON.parse(head.snapshot);
      snapshot.backends[0].check.type = 'tcp';
      sqlite.prepare('UPDATE revisions SET snapshot = ? WHERE id = ?').run(JSON.stringify(snapshot), head.id);
      sqlite
        .prepare('UPDATE backends SET "check" = ? WHERE name = \'old\'')
        .run(JSON.stringify(snapshot.backends[0].check));
    });
    app = await startApp({ dbPath: db.dbPath });
    try {
      const config = (await app.request.get('/api/v1/config').expect(200)).body;
      expect(config.backends[0].check).toMatchObject({ type: 'tcp', cmpp: { sourceAddr: '901234' } });
      const put = await app.request.put('/api/v1/config').send(config);
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      const patched = await app.request.patch('/api/v1/backends/old').send({ retries: 2 });
      expect(patched.status, JSON.stringify(patched.body)).toBe(200);
      const stored = readDatabase(db.dbPath, (sqlite) =>
        JSON.parse(
          (sqlite.prepare('SELECT "check" FROM backends WHERE name = \'old\'').get() as { check: string })
            .check,
        ),
      );
      expect(stored).toMatchObject({ type: 'tcp', cmpp: { sourceAddr: '901234', secret: 'right' } });
    } finally {
      await app.close();
    }
  } finally {
    db.cleanup();
  }
});
