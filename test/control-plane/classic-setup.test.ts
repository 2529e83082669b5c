// Issue 3, point 10, end to end through HTTP only: the HAProxy setup our users run today —
//   frontend cmpp :<port> → backend ismg balance source, three CMPP gateways, check inter 500 fall 3 rise 2
// — then drain, a gateway dying, a weight change, rolling back two revisions, and a restart on the
// same database file.
import { afterAll, expect, it } from 'vitest';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { freePort, waitFor } from '../helpers/net.js';
import { accepts, cmppClient, cmppGateway, type CmppClient, type Gateway } from './fixtures.js';

const INTER = 500;
const FALL = 3;
const CLIENTS = 24;

const db = tempDbPath();
let t: StartedApp | undefined;
const gateways: Gateway[] = [];
const clients: CmppClient[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  await t?.close();
  await Promise.all(gateways.map((g) => g.close()));
  db.cleanup();
});

const sourceOf = (i: number) => `127.0.0.${i + 2}`;

async function serverFacts(app: StartedApp) {
  const res = await app.request.get('/api/v1/backends/ismg');
  expect(res.status).toBe(200);
  return new Map<string, { health?: string; adminState: string; weight: number }>(
    res.body.servers.map((s: { name: string; health?: string; adminState: string; weight: number }) => [
      s.name,
      s,
    ]),
  );
}

/** One SUBMIT on a fresh connection from `source`; the id of the gateway that answered. */
async function landsOn(port: number, source: string): Promise<number> {
  const client = await cmppClient(port, source);
  try {
    return await client.submit();
  } finally {
    client.close();
  }
}

it('runs the classic CMPP setup: spread, stickiness, drain, a dead gateway, weights, rollback and restart', async () => {
  for (let id = 1; id <= 3; id++) gateways.push(await cmppGateway(id));
  const port = await freePort();
  t = await startApp({ dbPath: db.dbPath });
  const api = t.request;

  // --- the haproxy.cfg, through the API ---
  await api
    .post('/api/v1/backends')
    .send({
      name: 'ismg',
      balance: 'source',
      hashType: 'consistent',
      check: { type: 'tcp', inter: INTER, fall: FALL, rise: 2 },
      onMarkedDown: 'shutdown-sessions',
      servers: gateways.map((g) => ({ name: `gw${g.id}`, address: '127.0.0.1', port: g.port })),
    })
    .expect(201);
  await api
    .post('/api/v1/frontends')
    .send({ name: 'cmpp', bind: { address: '127.0.0.1', port }, backend: 'ismg' })
    .expect(201);
  await waitFor(
    async () => [...(await serverFacts(t!)).values()].every((s) => s.health === 'UP'),
    5000,
    'all gateways UP',
  );

  // --- clients from different addresses spread over the gateways; a source always lands on the same one ---
  const home = new Map<string, number>();
  for (let i = 0; i < CLIENTS; i++) {
    const client = await cmppClient(port, sourceOf(i));
    clients.push(client);
    home.set(sourceOf(i), await client.submit());
  }
  const perGateway = (id: number) => [...home.entries()].filter(([, g]) => g === id).map(([s]) => s);
  for (const g of gateways) expect(perGateway(g.id).length, `clients on gw${g.id}`).toBeGreaterThan(0);
  for (let i = 0; i < CLIENTS; i++) expect(await landsOn(port, sourceOf(i))).toBe(home.get(sourceOf(i)));

  // --- drain the busiest gateway: its clients stay, new connections avoid it, the others don't move ---
  const drained = [1, 2, 3].sort((a, b) => perGateway(b).length - perGateway(a).length)[0];
  const dead = [1, 2, 3].find((id) => id !== drained)!;
  const survivor = [1, 2, 3].find((id) => id !== drained && id !== dead)!;
  await api.put(`/api/v1/backends/ismg/servers/gw${drained}/state`).send({ state: 'drain' }).expect(200);
  for (let i = 0; i < CLIENTS; i++) {
    const source = sourceOf(i);
    if (home.get(source) === drained) {
      expect(await clients[i].submit(), 'existing session of a drained gateway').toBe(drained);
      expect(await landsOn(port, source)).not.toBe(drained);
    } else {
      expect(await landsOn(port, source)).toBe(home.get(source));
    }
  }

  // --- a gateway stops accepting: DOWN within inter × fall + 1 s, its sessions cut, its clients go elsewhere ---
  const deadClients = clients.filter((_, i) => home.get(sourceOf(i)) === dead);
  const closedAll = Promise.all(
    deadClients.map((c) => new Promise<void>((resolve) => c.socket.once('close', () => resolve()))),
  );
  const stoppedAt = Date.now();
  await gateways[dead - 1].stopListening();
  await waitFor(
    async () => (await serverFacts(t!)).get(`gw${dead}`)?.health === 'DOWN',
    INTER * FALL + 1000,
    `gw${dead} DOWN`,
  );
  const downAfter = Date.now() - stoppedAt;
  expect(downAfter).toBeLessThanOrEqual(INTER * FALL + 1000);
  await closedAll;
  for (const source of perGateway(dead)) expect(await landsOn(port, source)).toBe(survivor);

  // --- two config changes, then roll back two revisions ---
  const before = (await api.get('/api/v1/revisions').query({ limit: 1 })).body.items[0].id as number;
  await api.patch(`/api/v1/backends/ismg/servers/gw${survivor}`).send({ weight: 5 }).expect(200);
  await api.patch(`/api/v1/backends/ismg/servers/gw${drained}`).send({ weight: 3 }).expect(200);
  expect((await serverFacts(t)).get(`gw${survivor}`)?.weight).toBe(5);
  const rolled = await api.post(`/api/v1/revisions/${before}/rollback`);
  expect(rolled.status).toBe(200);
  expect(rolled.body.revision).toBe(before + 3);
  const facts = await serverFacts(t);
  expect([...facts.values()].map((s) => s.weight)).toEqual([1, 1, 1]);
  expect(facts.get(`gw${drained}`)?.adminState).toBe('drain');

  // --- restart on the same database file: same listeners, revisions and admin states ---
  const revisions = (await api.get('/api/v1/revisions')).body.items;
  const config = (await api.get('/api/v1/config')).body;
  for (const c of clients) c.close();
  await t.close();
  expect(await accepts(port)).toBe(false);

  t = await startApp({ dbPath: db.dbPath });
  expect(await accepts(port)).toBe(true);
  expect((await t.request.get('/api/v1/frontends/cmpp')).body).toMatchObject({
    status: 'OPEN',
    bind: { port },
  });
  expect((await t.request.get('/api/v1/revisions')).body.items).toEqual(revisions);
  expect((await t.request.get('/api/v1/config')).body).toEqual(config);
  expect((await serverFacts(t)).get(`gw${drained}`)?.adminState).toBe('drain');
  expect(await landsOn(port, sourceOf(0))).not.toBe(drained);
  console.log(
    `gw${dead} marked DOWN ${downAfter} ms after it stopped accepting (limit ${INTER * FALL + 1000} ms)`,
  );
});
