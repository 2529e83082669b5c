// Issue 13, point 2: health, admin-state, drain and bind events go into a stored event log (GET /events, filters,
// limit, X-Total-Count) that survives a restart and is bounded by the retention (days and a row cap); chart samples
// are stored every 10 s and GET /stats/history returns them before the live ones, also after a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLogService } from '../../src/events/event-log.service.js';
import { SampleStore } from '../../src/events/sample-store.service.js';
import { RetentionService } from '../../src/retention/retention.service.js';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { closeServer, listeningServer, portOf } from '../helpers/health-targets.js';
import { freePort, holdPort, waitFor } from '../helpers/net.js';
import { readDatabase, writeDatabase } from '../helpers/sqlite.js';
import { backendBody, expectError, frontendBody, serverBody } from './fixtures.js';

interface StoredEvent {
  id: number;
  at: number;
  type: string;
  backend?: string;
  server?: string;
  frontend?: string;
  text: string;
  detail: Record<string, unknown>;
}

const DAY_MS = 24 * 60 * 60_000;

describe('stored event log', () => {
  const db = tempDbPath();
  let t: StartedApp;
  let failedPort: number;
  let blocker: { close(): Promise<void> };

  const events = async (query = '') => {
    const res = await t.request.get(`/api/v1/events${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { items: res.body as StoredEvent[], total: Number(res.headers['x-total-count']) };
  };

  beforeAll(async () => {
    t = await startApp({ dbPath: db.dbPath });
    // gw1 goes UP, then DOWN (L4CON) when its listener closes; gw2 is drained; frontend `held` can't bind.
    const gw1 = await listeningServer();
    const gw2 = await listeningServer();
    await t.request
      .post('/api/v1/backends')
      .send(
        backendBody('ismg', [serverBody('gw1', portOf(gw1)), serverBody('gw2', portOf(gw2))], {
          check: { type: 'tcp', inter: 100, fall: 1, rise: 1 },
        }),
      )
      .expect(201);
    const texts = async () => (await events('?type=health&server=gw1')).items.map((e) => e.text);
    const gw1Check = async () => {
      const stats = (await t.request.get('/api/v1/stats')).body as {
        backends: { name: string; servers: { name: string; health: string; check_status: string }[] }[];
      };
      const s = stats.backends.find((b) => b.name === 'ismg')?.servers.find((x) => x.name === 'gw1');
      return s?.health === 'UP' && s.check_status === 'L4OK';
    };
    await waitFor(gw1Check, 5000, 'gw1 checked UP');
    await closeServer(gw1);
    await waitFor(async () => (await texts())[0] === 'ismg/gw1 UP → DOWN (L4CON)', 5000, 'gw1 DOWN');
    await t.request.put('/api/v1/backends/ismg/servers/gw2/state').send({ state: 'drain' }).expect(200);
    // A frontend whose port is taken while the appliance is down fails to bind at the next start.
    failedPort = await freePort();
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('held', failedPort, 'ismg'))
      .expect(201);
    await t.close();
    blocker = await holdPort(failedPort);
    t = await startApp({ dbPath: db.dbPath });
    await closeServer(gw2);
    // gw2's own DOWN lands in the log a moment later: wait for it, so the tests below see a log that no longer moves.
    await waitFor(
      async () => (await events('?type=health&server=gw2')).items.some((e) => / → DOWN/.test(e.text)),
      5000,
      'gw2 DOWN stored',
    );
  });

  afterAll(async () => {
    await blocker?.close();
    await t?.close();
    db.cleanup();
  });

  it('keeps health changes with their check status, admin states and bind failures, newest first', async () => {
    const { items, total } = await events();
    expect(total).toBe(items.length);
    const texts = items.map((e) => e.text);
    expect(texts).toContain('ismg/gw1 UP → DOWN (L4CON)');
    expect(texts).toContain('ismg/gw2 READY → DRAIN');
    expect(texts).toContainEqual(expect.stringMatching(/^frontend held FAILED: EADDRINUSE/));
    expect(texts).toContainEqual(expect.stringMatching(/^appliance started/));
    const down = items.find((e) => e.text === 'ismg/gw1 UP → DOWN (L4CON)')!;
    expect(down).toMatchObject({ type: 'health', backend: 'ismg', server: 'gw1' });
    expect(down.detail).toMatchObject({ type: 'health', from: 'UP', to: 'DOWN', checkStatus: 'L4CON' });
    expect(items.map((e) => e.id)).toEqual([...items.map((e) => e.id)].sort((a, b) => b - a));
  });

  it('filters by type, frontend, backend, server and time, and caps the answer at limit', async () => {
    expect((await events('?type=admin-state')).items.map((e) => e.text)).toEqual(['ismg/gw2 READY → DRAIN']);
    const bind = (await events('?frontend=held')).items;
    expect(bind.length).toBeGreaterThan(0);
    expect(bind.every((e) => e.frontend === 'held' && e.type === 'frontend-error')).toBe(true);
    expect((await events('?backend=nope')).items).toEqual([]);
    const all = await events('?backend=ismg');
    expect(all.total).toBeGreaterThanOrEqual(3);
    const one = await events('?backend=ismg&limit=1');
    expect(one.items).toHaveLength(1);
    expect(one.total).toBe(all.total);
    expect(one.items[0].id).toBe(all.items[0].id);
    const later = await events(`?since=${Date.now() + 60_000}`);
    expect(later).toEqual({ items: [], total: 0 });
  });

  it('refuses a bad query naming each field, 4xx, never 5xx', async () => {
    const res = await t.request.get('/api/v1/events?type=bogus&limit=0&since=-1');
    expectError(res, 400);
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(['limit', 'since', 'type']);
    expectError(await t.request.get('/api/v1/events?limit=1001'), 400, 'limit');
    expect((await t.anonymous.get('/api/v1/events')).status).toBe(401);
    const viewer = await t.as('viewer');
    expect((await viewer.get('/api/v1/events')).status).toBe(200);
  });

  it('survives a restart: the events before it are still there, with one more appliance start', async () => {
    const before = (await events()).items;
    await t.close();
    t = await startApp({ dbPath: db.dbPath });
    const after = await events();
    expect(after.items.map((e) => e.id)).toEqual(expect.arrayContaining(before.map((e) => e.id)));
    expect(after.items.filter((e) => e.type === 'appliance-start')).toHaveLength(3);
  });

  it('prunes events past the retention days and beyond the row cap', async () => {
    await t.close();
    writeDatabase(db.dbPath, (sqlite) => {
      const insert = sqlite.prepare(
        "INSERT INTO events (at, type, backend, server, text, detail) VALUES (?, 'health', 'old', 's', 'old', '{}')",
      );
      for (let i = 0; i < 50; i++) insert.run(Date.now() - 100 * DAY_MS);
      for (let i = 0; i < 30; i++) insert.run(Date.now() - 1000);
    });
    t = await startApp({
      dbPath: db.dbPath,
      env: { TETHER_EVENT_RETENTION_DAYS: '30', TETHER_EVENTS_KEPT: '20' },
    });
    const rows = () =>
      readDatabase(db.dbPath, (sqlite) => sqlite.prepare('SELECT id, at FROM events ORDER BY id').all()) as {
        id: number;
        at: number;
      }[];
    // The start's prune ran; events of this start may land after it, so store them and prune again to count exactly.
    await t.app.get(EventLogService).flush();
    await t.app.get(RetentionService).prune();
    const kept = rows();
    expect(kept).toHaveLength(20);
    expect(kept.every((r) => r.at > Date.now() - 30 * DAY_MS)).toBe(true);
  });
});

describe('stored chart samples', () => {
  const db = tempDbPath();
  let t: StartedApp;

  afterAll(async () => {
    await t?.close();
    db.cleanup();
  });

  it('stores samples and returns them before the live ones after a restart; old ones are pruned', async () => {
    t = await startApp({ dbPath: db.dbPath });
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('ismg', [serverBody('gw1', 9)]))
      .expect(201);
    await t.app.get(SampleStore).record();
    const stored = readDatabase(db.dbPath, (sqlite) =>
      sqlite.prepare('SELECT t, data FROM stats_samples').all(),
    ) as { t: number; data: string }[];
    expect(stored).toHaveLength(1);
    expect(JSON.parse(stored[0].data).servers['ismg/gw1']).toMatchObject({ scur: 0, stot: 0 });
    await t.close();
    // Stopping stores the last figures as well.
    const afterStop = readDatabase(db.dbPath, (sqlite) =>
      sqlite.prepare('SELECT t FROM stats_samples').all(),
    );
    expect(afterStop).toHaveLength(2);
    // Ten minutes of history from before the restart, and one sample older than the retention.
    const now = Date.now();
    writeDatabase(db.dbPath, (sqlite) => {
      const insert = sqlite.prepare('INSERT INTO stats_samples (t, data) VALUES (?, ?)');
      for (let i = 60; i >= 1; i--)
        insert.run(
          now - i * 10_000,
          JSON.stringify({ frontends: {}, servers: { 'ismg/gw1': { scur: i, stot: 100, bin: 0, bout: 0 } } }),
        );
      insert.run(now - 3 * 60 * 60_000, JSON.stringify({ frontends: {}, servers: {} }));
    });
    t = await startApp({ dbPath: db.dbPath, env: { TETHER_SAMPLE_RETENTION_HOURS: '2' } });
    await expect
      .poll(async () => (await t.request.get('/api/v1/stats/history')).body.length, { timeout: 5000 })
      .toBeGreaterThan(61);
    const history = (await t.request.get('/api/v1/stats/history')).body as {
      t: number;
      servers: Record<string, { scur: number }>;
    }[];
    const ts = history.map((s) => s.t);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(history.slice(0, 60).map((s) => s.servers['ismg/gw1'].scur)).toEqual(
      Array.from({ length: 60 }, (_, i) => 60 - i),
    );
    expect(ts).not.toContain(now - 3 * 60 * 60_000);
    // `since` applies to the stored ones too.
    const since = (await t.request.get(`/api/v1/stats/history?since=${now - 35_000}`)).body as {
      t: number;
    }[];
    // (the samples recorded before the restart are younger than 10 s)
    expect(since.filter((s) => s.t <= now - 10_000)).toHaveLength(3);
    const left = readDatabase(db.dbPath, (sqlite) =>
      sqlite.prepare('SELECT count(*) AS n FROM stats_samples WHERE t < ?').get(now - 2 * 60 * 60_000),
    ) as { n: number };
    expect(left.n).toBe(0);
  });
});
