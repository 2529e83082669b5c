// Crash consistency: the real appliance (compiled src/main.ts, its own process, a real SQLite file) is
// killed with SIGKILL at a random moment of a burst of config changes and admin-state changes, 20
// times. After each restart:
// - the database passes `PRAGMA integrity_check`;
// - every change that was answered 2xx is stored, with what it changed;
// - the head revision is the last acknowledged one, or the one change in flight at the kill, and it is
//   what the runtime serves: the listener is open on the head's bind and on no other port of the pool;
// - admin states are the last acknowledged ones (or the one in flight), and traffic only reaches
//   servers that are ready.
import { afterAll, expect, it } from 'vitest';
import { TEST_ADMIN_PASSWORD, adminClient, withBearer, type Client } from '../helpers/auth.js';
import { tempDbPath } from '../helpers/app.js';
import {
  compileApp,
  startAppliance,
  untilListening,
  type ApplianceProcess,
  type CompiledApp,
} from '../helpers/compiled-app.js';
import {
  connect,
  freePort,
  listen,
  named,
  processListensOn,
  readLine,
  type TestServer,
} from '../helpers/net.js';
import { readDatabase } from '../helpers/sqlite.js';
import { backendBody, frontendBody, serverBody } from './fixtures.js';

const ROUNDS = 20;
/** The whole test stays well inside this; each round is ~3.5 s here, ~6 s on a machine loaded by others. */
const BUDGET_MS = 140_000;
/** Servers whose admin state the burst changes; s1 stays ready so that the frontend always serves. */
const TOGGLED = ['s2', 's3'] as const;
type Toggled = (typeof TOGGLED)[number];
type AdminState = 'ready' | 'drain' | 'maint';
const STATES: AdminState[] = ['ready', 'drain', 'maint'];

/** What the acknowledged changes say the config is. */
interface ConfigModel {
  revision: number;
  port: number;
  weight: number;
}
type ConfigChange = { port: number } | { weight: number };

const db = tempDbPath();
let compiled: CompiledApp | undefined;
let appliance: ApplianceProcess | undefined;
const upstreams: TestServer[] = [];

afterAll(async () => {
  appliance?.child.kill('SIGKILL');
  await appliance?.exited;
  for (const upstream of upstreams) await upstream.close();
  compiled?.remove();
  db.cleanup();
});

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

it(`keeps every acknowledged change across ${ROUNDS} kill -9s in the middle of a burst`, async () => {
  const started = Date.now();
  compiled = await compileApp();
  for (const name of ['s1', 's2', 's3']) upstreams.push(await listen(named(name)));
  const pool = [await freePort(), await freePort(), await freePort(), await freePort()];
  const httpPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  const boot = () =>
    startAppliance(compiled!.main, {
      TETHER_DB: db.dbPath,
      TETHER_HTTP_HOST: '127.0.0.1',
      TETHER_HTTP_PORT: String(httpPort),
      TETHER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      TETHER_LOG_LEVEL: 'log',
    });

  // Round 0: an API token (it outlives restarts; logins would be throttled) and the config.
  appliance = boot();
  await untilListening(appliance);
  const login = await adminClient(url);
  const tokenRes = await login.post('/api/v1/tokens').send({ name: 'crash-test', role: 'admin' });
  expect(tokenRes.status, JSON.stringify(tokenRes.body)).toBe(201);
  const api: Client = withBearer(url, tokenRes.body.token as string);
  const servers = upstreams.map((u, i) => serverBody(`s${i + 1}`, u.port));
  await api.post('/api/v1/backends').send(backendBody('b', servers)).expect(201);
  const created = await api
    .post('/api/v1/frontends')
    .send(frontendBody('fe', pool[0], 'b'))
    .expect(201);

  let model: ConfigModel = { revision: created.body.revision as number, port: pool[0], weight: 1 };
  /** Every acknowledged config change: revision → what it must have stored. */
  const acknowledged = new Map<number, ConfigModel>([[model.revision, model]]);
  const admin: Record<Toggled, AdminState> = { s2: 'ready', s3: 'ready' };
  let changesAcknowledged = 0;

  for (let round = 1; round <= ROUNDS; round++) {
    expect(Date.now() - started, `round ${round} began after the time budget`).toBeLessThan(BUDGET_MS);
    // ---- the burst, cut by kill -9 at a random moment ----
    let killed = false;
    let configInFlight: ConfigChange | undefined;
    let adminInFlight: { server: Toggled; state: AdminState } | undefined;
    const configBurst = async () => {
      while (!killed) {
        const change: ConfigChange =
          Math.random() < 0.5
            ? { port: pick(pool.filter((p) => p !== model.port)) }
            : { weight: pick([1, 2, 3, 4, 5, 6, 7, 8].filter((w) => w !== model.weight)) };
        configInFlight = change;
        const res = await (
          'port' in change
            ? api.patch('/api/v1/frontends/fe').send({ bind: { address: '127.0.0.1', port: change.port } })
            : api.patch('/api/v1/backends/b/servers/s1').send({ weight: change.weight })
        ).catch(() => undefined);
        if (res === undefined) return; // the connection died with the process: not acknowledged
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        model = { ...model, ...change, revision: res.body.revision as number };
        expect(acknowledged.has(model.revision), 'each change gets a new revision').toBe(false);
        acknowledged.set(model.revision, model);
        configInFlight = undefined;
        changesAcknowledged++;
      }
    };
    const adminBurst = async () => {
      while (!killed) {
        const server = pick(TOGGLED);
        const state = pick(STATES.filter((s) => s !== admin[server]));
        adminInFlight = { server, state };
        const res = await api
          .put(`/api/v1/backends/b/servers/${server}/state`)
          .send({ state })
          .catch(() => undefined);
        if (res === undefined) return;
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body).toMatchObject({ previous: admin[server], state, changed: true });
        admin[server] = state;
        adminInFlight = undefined;
        changesAcknowledged++;
      }
    };
    const bursts = Promise.all([configBurst(), adminBurst()]);
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 300));
    killed = true;
    appliance.child.kill('SIGKILL');
    expect(await appliance.exited).toBeNull();
    await bursts;

    // ---- restart and check ----
    appliance = boot();
    await untilListening(appliance);
    const where = `round ${round}`;

    const integrity = readDatabase(db.dbPath, (d) => d.pragma('integrity_check', { simple: true }));
    expect(integrity, where).toBe('ok');

    // Every acknowledged config change is stored with what it changed.
    const rows = readDatabase(db.dbPath, (d) =>
      d.prepare('SELECT id, snapshot FROM revisions').all(),
    ) as Array<{ id: number; snapshot: string }>;
    const stored = new Map(rows.map((r) => [r.id, JSON.parse(r.snapshot) as StoredSnapshot]));
    for (const [revision, expected] of acknowledged) {
      const snapshot = stored.get(revision);
      expect(snapshot, `${where}: acknowledged revision ${revision} is missing`).toBeDefined();
      expect(facts(snapshot!), `${where}: revision ${revision}`).toEqual(factsOf(expected));
    }

    // The head: the last acknowledged change, or the one in flight when the process died.
    const config = (await api.get('/api/v1/config').expect(200)).body as StoredSnapshot & {
      revision: number;
    };
    const headFacts = facts(config);
    if (config.revision === model.revision) {
      expect(headFacts, where).toEqual(factsOf(model));
    } else {
      expect(
        configInFlight,
        `${where}: head ${config.revision} is neither acknowledged nor in flight`,
      ).toBeDefined();
      expect(config.revision, where).toBeGreaterThan(model.revision);
      model = { ...model, ...configInFlight!, revision: config.revision };
      expect(headFacts, where).toEqual(factsOf(model));
      acknowledged.set(model.revision, model);
    }

    // Admin states: the last acknowledged ones, or the one in flight.
    const stats = (await api.get('/api/v1/stats').expect(200)).body as {
      frontends: Array<{ name: string; status: string; bind: { port: number } }>;
      backends: Array<{ servers: Array<{ name: string; adminState: AdminState; weight: number }> }>;
    };
    const live = new Map(stats.backends[0].servers.map((s) => [s.name, s]));
    for (const server of TOGGLED) {
      const state = live.get(server)!.adminState;
      if (state !== admin[server]) {
        expect(adminInFlight, `${where}: ${server} is ${state}, acknowledged ${admin[server]}`).toEqual({
          server,
          state,
        });
        admin[server] = state;
      }
    }
    expect(live.get('s1')).toMatchObject({ adminState: 'ready', weight: model.weight });

    // The runtime serves the head: open on its bind, nowhere else in the pool, only to ready servers.
    expect(stats.frontends).toEqual([
      expect.objectContaining({
        name: 'fe',
        status: 'OPEN',
        bind: expect.objectContaining({ port: model.port }),
      }),
    ]);
    const ready = ['s1', ...TOGGLED.filter((s) => admin[s] === 'ready')];
    for (let i = 0; i < 4; i++) {
      const client = await connect(model.port);
      const name = await readLine(client);
      client.destroy();
      expect(ready, `${where}: a client reached ${name}`).toContain(name);
    }
    // Asked of the appliance's own sockets: a connect could reach another test file's server on a freed port.
    for (const port of pool.filter((p) => p !== model.port)) {
      expect(processListensOn(appliance.child.pid!, port), `${where}: port ${port} is not the head's`).toBe(
        false,
      );
    }
    expect(processListensOn(appliance.child.pid!, model.port), `${where}: the head's port`).toBe(true);
  }

  const seconds = (Date.now() - started) / 1000;
  console.log(
    `${ROUNDS} kill -9s, ${changesAcknowledged} acknowledged changes, ${acknowledged.size} revisions checked, ${seconds.toFixed(1)} s`,
  );
  // Each burst must have been cut with work done: the test would prove little otherwise.
  expect(changesAcknowledged).toBeGreaterThanOrEqual(ROUNDS);
}, 180_000);

interface StoredSnapshot {
  frontends: Array<{ name: string; bind: { port: number } }>;
  backends: Array<{ name: string; servers: Array<{ name: string; weight: number }> }>;
}

/** The facts the burst changes, as stored or served. */
function facts(snapshot: StoredSnapshot): { port: number; weight: number } {
  return {
    port: snapshot.frontends.find((f) => f.name === 'fe')!.bind.port,
    weight: snapshot.backends.find((b) => b.name === 'b')!.servers.find((s) => s.name === 's1')!.weight,
  };
}

function factsOf(model: ConfigModel): { port: number; weight: number } {
  return { port: model.port, weight: model.weight };
}
