// Issue 9 through the real app: check.steps, fastinter, downinter and server.checkPort are accepted by every write
// (PUT/PATCH/POST, validate), refused naming every bad field, stored (servers.checkPort column, the backend's check
// JSON), survive a restart, and run: checks go to checkPort and run the steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { closedPort } from '../helpers/health-targets.js';
import { waitFor } from '../helpers/net.js';
import { readDatabase, writeDatabase } from '../helpers/sqlite.js';
import { behavingServer, type CountingServer } from './redis-like.js';

const PING = [{ send: 'PING\r\n' }, { expect: { string: '+PONG' } }];

describe('check settings of issue 9 through the API', () => {
  let t: StartedApp;
  let db: ReturnType<typeof tempDbPath>;
  const upstreams: CountingServer[] = [];
  beforeAll(async () => {
    db = tempDbPath();
    t = await startApp({ dbPath: db.dbPath });
  });
  afterAll(async () => {
    await t?.close();
    for (const u of upstreams) await u.close();
    db?.cleanup();
  });

  async function health(backend: string): Promise<Record<string, string | undefined>> {
    const body = (await t.request.get(`/api/v1/backends/${backend}`).expect(200)).body as {
      servers: Array<{ name: string; health?: string }>;
    };
    return Object.fromEntries(body.servers.map((s) => [s.name, s.health]));
  }

  it('takes them on POST, reads them back (durations as ms), stores them and keeps them over a restart', async () => {
    const pong = await behavingServer('pong');
    upstreams.push(pong);
    const body = {
      name: 'redis',
      balance: 'roundrobin',
      check: { type: 'tcp', inter: '5s', fastinter: '100ms', downinter: '1s', fall: 2, rise: 1, steps: PING },
      servers: [{ name: 'r1', address: '127.0.0.1', port: pong.port, checkPort: pong.port }],
    };
    const created = await t.request.post('/api/v1/backends').send(body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const expected = {
      check: { type: 'tcp', inter: 5000, fastinter: 100, downinter: 1000, fall: 2, rise: 1, steps: PING },
      servers: [{ name: 'r1', checkPort: pong.port }],
    };
    expect(created.body).toMatchObject(expected);
    const stored = readDatabase(t.dbPath, (sqlite) => ({
      checkPort: (
        sqlite.prepare("SELECT checkPort FROM servers WHERE name = 'r1'").get() as { checkPort: number }
      ).checkPort,
      check: JSON.parse(
        (sqlite.prepare('SELECT "check" FROM backends WHERE name = \'redis\'').get() as { check: string })
          .check,
      ),
    }));
    expect(stored).toEqual({ checkPort: pong.port, check: expected.check });
    await t.close();
    t = await startApp({ dbPath: db.dbPath });
    expect((await t.request.get('/api/v1/backends/redis').expect(200)).body).toMatchObject(expected);
  });

  it('refuses bad values with 400 naming every offending field, and changes nothing', async () => {
    const before = (await t.request.get('/api/v1/config').expect(200)).body;
    const res = await t.request.put('/api/v1/backends/redis').send({
      balance: 'roundrobin',
      check: {
        type: 'tcp',
        fastinter: 5,
        downinter: 'soon',
        steps: [
          { send: 'PING\r\n', sendBinary: '00' },
          { sendBinary: 'abc' },
          { expect: { string: '' } },
          { send: 'x'.repeat(1025) },
        ],
      },
      servers: [{ name: 'r1', address: '127.0.0.1', port: 1, checkPort: 70000 }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const fields = (res.body.errors as Array<{ field: string }>).map((e) => e.field).join(' ');
    for (const f of ['fastinter', 'downinter', 'checkPort', 'sendBinary']) expect(fields).toContain(f);
    expect((await t.request.get('/api/v1/config').expect(200)).body).toEqual(before);
  });

  it('refuses (document check) a step of two actions, too many steps and steps on a non-tcp check', async () => {
    const check = (steps: unknown, type = 'tcp') => ({
      name: 'bad',
      balance: 'roundrobin',
      check: { type, steps },
    });
    const two = await t.request.post('/api/v1/config/validate').send({
      frontends: [],
      backends: [check([{ send: 'a', expect: { string: 'b' } }, { expect: { string: 'a', binary: '00' } }])],
    });
    expect(two.status, JSON.stringify(two.body)).toBe(400);
    expect((two.body.errors as Array<{ field: string }>).map((e) => e.field)).toEqual([
      'backends[0].check.steps[0]',
      'backends[0].check.steps[1]',
    ]);
    const many = await t.request
      .post('/api/v1/config/validate')
      .send({ frontends: [], backends: [check(Array.from({ length: 17 }, () => ({ send: 'a' })))] });
    expect(many.status, JSON.stringify(many.body)).toBe(413);
    expect(many.body.field).toBe('backends[0].check.steps');
    const none = await t.request
      .post('/api/v1/config/validate')
      .send({ frontends: [], backends: [check(PING, 'none')] });
    expect(none.status, JSON.stringify(none.body)).toBe(400);
    expect(none.body.field).toBe('backends[0].check.steps');
  });

  it('checks the check port, not the service port (HAProxy `port`): each way round', async () => {
    const pong = await behavingServer('pong');
    upstreams.push(pong);
    const closed = await closedPort();
    const res = await t.request.post('/api/v1/backends').send({
      name: 'ports',
      balance: 'roundrobin',
      check: { type: 'tcp', inter: 50, fall: 1, rise: 1, timeout: 500, steps: PING },
      servers: [
        // Service port closed, check port answers: UP.
        { name: 'check-open', address: '127.0.0.1', port: closed, checkPort: pong.port },
        // Service port answers, check port closed: DOWN.
        { name: 'check-closed', address: '127.0.0.1', port: pong.port, checkPort: closed },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await waitFor(async () => (await health('ports'))['check-closed'] === 'DOWN', 5000, 'check-closed DOWN');
    const before = pong.accepted;
    await waitFor(() => pong.accepted >= before + 3, 5000, 'checks on the check port');
    expect((await health('ports'))['check-open']).toBe('UP');
    // PATCH keeps what it doesn't name: the steps stay, the check port goes with the server's replacement only.
    const patched = await t.request.patch('/api/v1/backends/ports').send({ onMarkedDown: 'keep' });
    expect(patched.status).toBe(200);
    expect(patched.body.check.steps).toEqual(PING);
    expect(patched.body.servers.map((s: { checkPort?: number }) => s.checkPort)).toEqual([pong.port, closed]);
    // A live change of the check port restarts that server's checker on the new port: it comes UP.
    const moved = await t.request
      .patch('/api/v1/backends/ports/servers/check-closed')
      .send({ checkPort: pong.port });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    await waitFor(async () => (await health('ports'))['check-closed'] === 'UP', 5000, 'check-closed UP');
  });

  it('runs the steps: a server answering something else than +PONG goes DOWN, L7RSP in the stats', async () => {
    const wrong = await behavingServer('wrong-then-close');
    upstreams.push(wrong);
    const res = await t.request.post('/api/v1/backends').send({
      name: 'wrong',
      balance: 'roundrobin',
      check: { type: 'tcp', inter: 50, fall: 1, rise: 1, steps: PING },
      servers: [{ name: 'w', address: '127.0.0.1', port: wrong.port }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await waitFor(async () => (await health('wrong')).w === 'DOWN', 5000, 'w DOWN');
    const stats = (await t.request.get('/api/v1/stats').expect(200)).body as {
      backends: Array<{
        name: string;
        servers: Array<{ name: string; check_status: string; check_desc: string }>;
      }>;
    };
    const w = stats.backends.find((b) => b.name === 'wrong')!.servers[0];
    expect(w).toMatchObject({
      check_status: 'L7RSP',
      check_desc: "TCPCHK did not match content '+PONG' at step 3",
    });
  });
});

describe('migration 1796800000000 (servers.checkPort)', () => {
  it('loads a database stored before it unchanged: servers keep being checked on their port', async () => {
    const db = tempDbPath();
    try {
      let t = await startApp({ dbPath: db.dbPath });
      await t.request
        .post('/api/v1/backends')
        .send({
          name: 'old',
          check: { type: 'tcp' },
          servers: [{ name: 's', address: '127.0.0.1', port: 7001 }],
        })
        .expect(201);
      const before = (await t.request.get('/api/v1/config').expect(200)).body;
      await t.close();
      // The database as the previous release left it: no column, no record of the migration.
      writeDatabase(db.dbPath, (sqlite) => {
        sqlite.prepare('ALTER TABLE "servers" DROP COLUMN "checkPort"').run();
        sqlite.prepare("DELETE FROM migrations WHERE name = 'ServerCheckPort1796800000000'").run();
      });
      t = await startApp({ dbPath: db.dbPath });
      try {
        expect((await t.request.get('/api/v1/config').expect(200)).body).toEqual(before);
        expect(before.backends[0].servers[0].checkPort).toBeUndefined();
        const row = readDatabase(t.dbPath, (sqlite) => sqlite.prepare('SELECT checkPort FROM servers').get());
        expect(row).toEqual({ checkPort: null });
        // And the new column takes a value.
        await t.request.patch('/api/v1/backends/old/servers/s').send({ checkPort: 7002 }).expect(200);
        expect(
          readDatabase(t.dbPath, (sqlite) => sqlite.prepare('SELECT checkPort FROM servers').get()),
        ).toEqual({
          checkPort: 7002,
        });
      } finally {
        await t.close();
      }
    } finally {
      db.cleanup();
    }
  });
});
