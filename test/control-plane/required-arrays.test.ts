// A whole document without its arrays is told they are required, one message per field and every one named, by
// POST /config/validate and PUT /config alike (docs/api-errors.md); the other array fields of the DTOs say what
// they take in one message too. Nothing changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { listen, named, type TestServer } from '../helpers/net.js';
import { addLiveFrontend, backendBody, frontendBody, refusedUnchanged, serverBody } from './fixtures.js';

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

type Entry = { field: string; code: string; message: string };

/** validate and PUT answer the same 400, whose entries are `expected`, and change nothing. */
async function bothRefuse(body: unknown, expected: Array<[string, string]>): Promise<void> {
  const answers = [];
  for (const send of [
    () => t.request.post('/api/v1/config/validate').send(body as object),
    () => t.request.put('/api/v1/config').send(body as object),
  ]) {
    const res = await refusedUnchanged(t, livePort, send, 400, expected[0]![0]);
    answers.push(res.body);
  }
  expect(answers[1]).toEqual(answers[0]);
  const body0 = answers[0] as { message: string; errors: Entry[] };
  expect(body0.errors.map((e) => [e.field, e.message])).toEqual(expected);
  expect(body0.errors.every((e) => e.code === 'VALIDATION_FAILED')).toBe(true);
  expect(body0.message).toBe(expected[0]![1]);
}

describe('a whole config without its arrays', () => {
  it('{} names frontends and backends as required, once each (defaults may be left out)', async () => {
    await bothRefuse({}, [
      ['frontends', 'frontends is required: an array of at most 5000 frontends'],
      ['backends', 'backends is required: an array of at most 5000 backends'],
    ]);
  });

  it('null counts as missing; a value of another type is told it must be an array', async () => {
    await bothRefuse({ defaults: {}, frontends: null, backends: 'all' }, [
      ['frontends', 'frontends is required: an array of at most 5000 frontends'],
      ['backends', 'backends must be an array of at most 5000 backends'],
    ]);
    await bothRefuse({ frontends: [] }, [
      ['backends', 'backends is required: an array of at most 5000 backends'],
    ]);
  });

  it("an item's array fields are named from the document's root, one message each", async () => {
    const backend = { ...backendBody('b2', []), servers: 7, cmpp: { accounts: 'x' } };
    const frontend = { ...frontendBody('f2', 1, 'b2'), binds: [] };
    await bothRefuse({ frontends: [frontend], backends: [backend] }, [
      ['frontends[0].binds', 'frontends[0].binds must hold 1 to 64 binds, got 0'],
      ['backends[0].cmpp.accounts', 'backends[0].cmpp.accounts must be an array of at most 1000 accounts'],
      ['backends[0].servers', 'backends[0].servers must be an array of at most 20000 servers'],
    ]);
  });
});

describe('the same array fields on their own endpoints', () => {
  it('POST /frontends: binds not an array, or empty', async () => {
    for (const [binds, message] of [
      ['x', 'binds must be an array of 1 to 64 binds'],
      [[], 'binds must hold 1 to 64 binds, got 0'],
    ] as const) {
      const res = await refusedUnchanged(
        t,
        livePort,
        () => t.request.post('/api/v1/frontends').send({ ...frontendBody('f3', 1, 'b'), binds }),
        400,
        'binds',
      );
      expect((res.body.errors as Entry[]).map((e) => e.message)).toEqual([message]);
    }
  });

  it('POST /backends: servers not an array; left out it is fine', async () => {
    const res = await refusedUnchanged(
      t,
      livePort,
      () =>
        t.request
          .post('/api/v1/backends')
          .send({ ...backendBody('b3', []), servers: { s1: serverBody('s1', 1) } }),
      400,
      'servers',
    );
    expect((res.body.errors as Entry[]).map((e) => e.message)).toEqual([
      'servers must be an array of at most 20000 servers',
    ]);
    const { servers: _servers, ...withoutServers } = backendBody('b3', []);
    const created = await t.request.post('/api/v1/backends').send(withoutServers);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  });
});
