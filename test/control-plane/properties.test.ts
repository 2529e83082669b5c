// Property-based API tests (issue 8, point 21): generated whole documents and DTOs, valid and invalid,
// against the real app. Never a 5xx; a 4xx changes neither the database nor the runtime; `validate`
// answers what the real change answers (same status, code and field); a 2xx round-trips through
// GET /config. Runs are bounded in count and time.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import type { Client } from '../helpers/auth.js';
import { echo, freePort, listen, type TestServer } from '../helpers/net.js';
import { revisionCount } from './fixtures.js';

const RUNS = 80;
const TIME_LIMIT_MS = 25_000;

let t: StartedApp;
let viewer: Client;
let upstream: TestServer;
/** Loopback ports free at the start; a few, so generated binds clash often. */
let ports: number[];

beforeAll(async () => {
  t = await startApp();
  viewer = await t.as('viewer');
  upstream = await listen(echo);
  ports = [await freePort(), await freePort(), await freePort()];
});
afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

type Res = { status: number; body: Record<string, unknown> };

// ---- generators: mostly plausible values, with a share of wrong ones ----

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
const name = () => fc.constantFrom('a', 'b', 'web', 'gw-1', 'x.y', '.', '..', 'bad name', '');
const port = () =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...[0, 1, 2].map((i) => () => ports[i])).map((f) => f()) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(0, 65536, -1, 1.5),
    },
  );
const bindAddress = () =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('127.0.0.1', '127.0.0.2', '::ffff:127.0.0.1') },
    { weight: 1, arbitrary: fc.constantFrom('224.0.0.1', '255.255.255.255', 'nowhere', '') },
  );
const allow = () =>
  fc.constantFrom(
    undefined,
    undefined,
    ['127.0.0.0/8'],
    ['::ffff:127.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:10.0.0.0/8'],
    [],
    ['10.0.0.0/33'],
  );

const frontend = () =>
  fc.record(
    {
      name: name(),
      bind: fc.record({ address: maybe(bindAddress()), port: port() }, { requiredKeys: ['port'] }),
      backend: name(),
      maxconn: maybe(fc.constantFrom(1, 1000, 1_000_000, 1_000_001, 0)),
      allow: allow(),
      inspect: maybe(fc.constantFrom('none', 'cmpp', 'x')),
      enabled: maybe(fc.boolean()),
    },
    { requiredKeys: ['name', 'bind', 'backend'] },
  );

const server = () =>
  fc.record(
    {
      name: name(),
      address: fc.constantFrom(
        '127.0.0.1',
        '127.0.0.1',
        'localhost',
        '1.2.3',
        'bad host!',
        '::ffff:127.0.0.1',
      ),
      port: fc
        .oneof(fc.constant(0), fc.constant(65536), fc.constant(1), fc.constant(-1))
        .map((p) => (p === 1 ? upstream.port : p)),
      weight: maybe(fc.constantFrom(0, 1, 256, 257)),
      maxconn: maybe(fc.constantFrom(1, 1_000_000, 1_000_001)),
      backup: maybe(fc.boolean()),
      check: maybe(fc.boolean()),
    },
    { requiredKeys: ['name', 'address', 'port'] },
  );

const cmpp = () =>
  fc.record({
    sourceAddr: fc.constantFrom('900001', '中文', '中文字', ''),
    secret: fc.constantFrom('s3cret', '********'),
    version: fc.constantFrom('2.0', '3.0'),
  });

const backend = () =>
  fc.record(
    {
      name: name(),
      balance: maybe(fc.constantFrom('roundrobin', 'source', 'leastconn', 'first', 'random')),
      check: maybe(
        fc.record(
          {
            type: maybe(fc.constantFrom('tcp', 'none', 'none', 'cmpp')),
            inter: maybe(fc.constantFrom(10, 9, 1000, 86_400_000, 86_400_001)),
            cmpp: maybe(cmpp()),
          },
          { requiredKeys: [] },
        ),
      ),
      servers: maybe(fc.array(server(), { maxLength: 3 })),
    },
    { requiredKeys: ['name'] },
  );

const looseDocument = () =>
  fc.record(
    {
      defaults: maybe(
        fc.record({ maxconn: maybe(fc.constantFrom(1, 50_000, 1_000_001)) }, { requiredKeys: [] }),
      ),
      frontends: fc.array(frontend(), { maxLength: 4 }),
      backends: fc.array(backend(), { maxLength: 3 }),
    },
    { requiredKeys: ['frontends', 'backends'] },
  );

type Doc = {
  defaults?: Record<string, unknown>;
  frontends: Array<Record<string, any>>;
  backends: Array<Record<string, any>>;
};

/** A valid document: unique names, known backends, binds that don't overlap. */
const validDocument = () =>
  fc
    .record({
      backends: fc.array(
        fc.record({
          servers: fc.array(
            fc.record({
              address: fc.constantFrom('127.0.0.1', 'localhost'),
              weight: fc.integer({ min: 0, max: 256 }),
              check: fc.boolean(),
            }),
            { maxLength: 2 },
          ),
          balance: fc.constantFrom('roundrobin', 'source', 'first'),
          check: fc.constantFrom(undefined, { type: 'tcp', inter: 1000 }, { type: 'none' }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      frontends: fc.uniqueArray(
        fc.record({
          address: fc.constantFrom('127.0.0.1', '127.0.0.2'),
          port: fc.integer({ min: 0, max: 2 }),
          backend: fc.nat(),
          allow: fc.constantFrom(undefined, ['127.0.0.0/8'], ['::ffff:127.0.0.0/104', '10.0.0.0/8']),
          enabled: fc.boolean(),
        }),
        { maxLength: 3, selector: (f) => f.port },
      ),
    })
    .map(({ backends, frontends }): Doc => ({
      backends: backends.map((b, i) => ({
        name: `be${i}`,
        balance: b.balance,
        ...(b.check ? { check: b.check } : {}),
        servers: b.servers.map((s, j) => ({ name: `s${j}`, port: upstream.port, ...s })),
      })),
      frontends: frontends.map((f, i) => ({
        name: `fe${i}`,
        bind: { address: f.address, port: ports[f.port] },
        backend: `be${f.backend % backends.length}`,
        enabled: f.enabled,
        ...(f.allow ? { allow: f.allow } : {}),
      })),
    }));

/** One thing wrong (or new) at a time: where the DTOs, the document check and the runtime used to disagree. */
const MUTATIONS: Array<(doc: Doc) => void> = [
  (d) => d.frontends[0] && (d.frontends[0].allow = ['::ffff:10.0.0.0/8']),
  (d) => d.frontends[0] && (d.frontends[0].allow = []),
  (d) =>
    d.frontends[0] &&
    d.frontends.push({
      ...d.frontends[0],
      name: 'mapped',
      bind: { ...d.frontends[0].bind, address: '::ffff:127.0.0.1' },
    }),
  (d) => (d.backends[0].name = '..'),
  (d) => d.frontends[0] && (d.frontends[0].bind.address = '224.0.0.1'),
  (d) => d.frontends[0] && (d.frontends[0].backend = 'ghost'),
  (d) => (d.backends[0].check = { type: 'cmpp', cmpp: { sourceAddr: '900001', secret: 'x' } }),
  (d) => d.frontends[0] && (d.frontends[0].inspect = 'cmpp'),
  (d) => (d.defaults = { maxconn: 1_000_001 }),
  (d) => (d.backends[0].check = { inter: 86_400_001 }),
  (d) => (d.backends[0].check = { type: 'tcp', cmpp: { sourceAddr: '中文字', secret: 'x' } }),
  (d) => d.backends.push({ ...d.backends[0] }),
  (d) => d.backends[0].servers.push({ name: 'n', address: '0x7f000001', port: upstream.port }),
  (d) =>
    d.backends[0].servers.push({
      name: 'h',
      address: 'gw1.tether.invalid',
      port: upstream.port,
      check: false,
    }),
  (d) => (d.backends[0].colour = 'red'),
  (d) => d.frontends[0] && (d.frontends[0].maxconn = 1_000_001),
];

const document = () =>
  fc.oneof(
    { weight: 3, arbitrary: validDocument() },
    {
      weight: 4,
      arbitrary: fc
        .tuple(validDocument(), fc.array(fc.constantFrom(...MUTATIONS), { minLength: 1, maxLength: 2 }))
        .map(([doc, mutations]) => {
          for (const mutate of mutations) mutate(doc);
          return doc;
        }),
    },
    { weight: 2, arbitrary: looseDocument() as fc.Arbitrary<unknown> as fc.Arbitrary<Doc> },
  );

// ---- observations ----

interface State {
  config: unknown;
  revisions: number;
  listeners: unknown;
}

async function observe(): Promise<State> {
  const stats = (await t.request.get('/api/v1/stats')).body as {
    frontends: Array<{ name: string; status: string }>;
  };
  return {
    config: (await t.request.get('/api/v1/config')).body,
    revisions: await revisionCount(t),
    listeners: stats.frontends.map((f) => ({ name: f.name, status: f.status })),
  };
}

function expectNoServerError(res: Res, what: string): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
}

/** The runtime alone can know that a port is held by another program: the one way a change may differ from its dry run. */
const isBindFailure = (res: Res) => res.status === 409 && res.body.code === 'APPLY_FAILED';

describe('properties of the API', () => {
  it('validate agrees with PUT /config; a refusal changes nothing; an acceptance round-trips', async () => {
    let accepted = 0;
    let refusedCount = 0;
    await fc.assert(
      fc.asyncProperty(document(), async (doc) => {
        const before = await observe();
        const dry = (await viewer.post('/api/v1/config/validate').send(doc)) as Res;
        expectNoServerError(dry, 'validate');
        expect(await observe()).toEqual(before);

        const real = (await t.request.put('/api/v1/config').send(doc)) as Res;
        expectNoServerError(real, 'PUT');
        if (dry.status === 200) {
          if (isBindFailure(real)) return;
          expect(real.status, JSON.stringify(real.body)).toBe(200);
        } else {
          expect({ status: real.status, code: real.body.code, field: real.body.field }).toEqual({
            status: dry.status,
            code: dry.body.code,
            field: dry.body.field,
          });
        }

        if (real.status >= 400) {
          refusedCount++;
          expect(await observe()).toEqual(before);
          return;
        }
        accepted++;
        const { revision, changed: _, ...applied } = real.body;
        const read = (await t.request.get('/api/v1/config')).body;
        expect(read).toEqual({ revision, ...applied });
        const names = (list: unknown) => (list as Array<{ name: string }>).map((x) => x.name);
        expect(names(read.frontends)).toEqual(names(doc.frontends));
        expect(names(read.backends)).toEqual(names(doc.backends));
        // What GET /config shows, sent back, is the same config.
        const again = await t.request.put('/api/v1/config').send(read);
        expect(again.status).toBe(200);
        expect(again.body.changed).toBe(false);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
    // Both sides of the property were exercised.
    expect(accepted).toBeGreaterThan(0);
    expect(refusedCount).toBeGreaterThan(0);
  });

  it('DTO changes: never a 5xx, a refusal changes nothing, an acceptance reads back', async () => {
    await t.request
      .put('/api/v1/config')
      .send({ frontends: [], backends: [{ name: 'home', servers: [] }] })
      .expect(200);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          frontend().map((body) => ({ path: '/api/v1/frontends', body, list: 'frontends' as const })),
          backend().map((body) => ({ path: '/api/v1/backends', body, list: 'backends' as const })),
          server().map((body) => ({ path: '/api/v1/backends/home/servers', body, list: 'servers' as const })),
        ),
        async ({ path, body, list }) => {
          const before = await observe();
          const res = (await t.request.post(path).send(body)) as Res;
          expectNoServerError(res, `POST ${path}`);
          if (res.status >= 400) {
            expect(await observe()).toEqual(before);
            return;
          }
          expect(res.status).toBe(201);
          accepted++;
          const read = await t.request.get(`${path}/${encodeURIComponent(body.name)}`);
          expect(read.status).toBe(200);
          const { revision: _r, changed: _c, ...created } = res.body;
          expect(read.body).toMatchObject(created);
          // Clean up so the next run starts from the same config (a delete is a change like any other).
          const removed = await t.request.delete(`${path}/${encodeURIComponent(body.name)}`);
          expect(removed.status, `${list}: ${JSON.stringify(removed.body)}`).toBe(200);
        },
      ),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
    expect(accepted).toBeGreaterThan(0);
  });
});
