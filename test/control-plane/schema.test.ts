// One schema (src/schema/): the DTO path, `validate` and the whole-document path answer alike, every
// problem is listed, a stale request is a 412 whatever else is wrong, inputs that can't work are
// refused, and options that are not built yet are refused as such (issue 8, points 14 to 18).
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { freePort, listen, named, type TestServer } from '../helpers/net.js';
import {
  accepts,
  addLiveFrontend,
  backendBody,
  expectError,
  frontendBody,
  headRevision,
  refusedUnchanged,
  serverBody,
  type ApiResponse,
} from './fixtures.js';

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

type Document = {
  defaults: unknown;
  frontends: Array<Record<string, unknown>>;
  backends: Array<Record<string, unknown>>;
};

async function config(): Promise<Document> {
  const { revision: _, ...document } = (await t.request.get('/api/v1/config')).body;
  return document as Document;
}

/** Sends the request and checks that neither the revisions nor the config moved. */
const refused = (send: () => Promise<ApiResponse>, status: number, field?: string) =>
  refusedUnchanged(t, livePort, send, status, field);

/** The dry run and the real change give the same answer: status, code and field. */
async function bothRefuse(document: Document, status: number, field: string): Promise<void> {
  const dry = await refused(() => t.request.post('/api/v1/config/validate').send(document), status, field);
  const real = await refused(() => t.request.put('/api/v1/config').send(document), status, field);
  expect(real.body.code).toBe(dry.body.code);
  expect(real.body.errors).toEqual(dry.body.errors);
}

describe('one schema: validate answers what the change does (point 14)', () => {
  it('accepts a server host name on every path', async () => {
    const document = await config();
    document.backends.push(backendBody('named', [serverBody('h1', upstream.port, { address: 'localhost' })]));
    const dry = await t.request.post('/api/v1/config/validate').send(document);
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    const put = await t.request.put('/api/v1/config').send(document);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const added = await t.request
      .post('/api/v1/backends/named/servers')
      .send(serverBody('h2', upstream.port, { address: 'localhost' }));
    expect(added.status, JSON.stringify(added.body)).toBe(201);
  });

  it('takes an IPv6 bind address with a zone without a 5xx (it answered 500)', async () => {
    const port = await freePort();
    const res = await t.request
      .post('/api/v1/frontends')
      .send({ name: 'zoned', bind: { address: 'fe80::1%lo', port }, backend: 'b' });
    // Whether this machine has fe80::1 on lo decides bound or refused, never a server error.
    expect([201, 409], JSON.stringify(res.body)).toContain(res.status);
    if (res.status === 201) await t.request.delete('/api/v1/frontends/zoned').expect(200);
    else expect(res.body).toMatchObject({ code: 'APPLY_FAILED', field: 'bind' });
  });

  it('refuses in the dry run, as the change does, a bind that overlaps the listener it replaces', async () => {
    // 127.0.0.1:P → 0.0.0.0:P: the new listener is bound before the old one closes, so the kernel would refuse it.
    const document = await config();
    document.frontends[0] = { ...document.frontends[0], bind: { address: '0.0.0.0', port: livePort } };
    await bothRefuse(document, 409, 'frontends[0].bind');
    const dry = await t.request.post('/api/v1/config/validate').send(document);
    expect(dry.body).toMatchObject({ code: 'APPLY_FAILED', cause: 'EADDRINUSE' });
    expect(dry.body.message).toContain('make the change in two steps');
  });

  it('flags 127.0.0.1 and ::ffff:127.0.0.1 on one port as overlapping, on both paths', async () => {
    const document = await config();
    document.frontends.push({
      name: 'mapped',
      bind: { address: '::ffff:127.0.0.1', port: livePort },
      backend: 'b',
    });
    await bothRefuse(document, 409, 'frontends[1].bind');
    await refused(
      () =>
        t.request
          .post('/api/v1/frontends')
          .send({ name: 'mapped', bind: { address: '::ffff:127.0.0.1', port: livePort }, backend: 'b' }),
      409,
      'bind',
    );
  });

  it('stores one spelling per bind address, so a change of spelling changes nothing', async () => {
    const document = await config();
    document.frontends[0] = {
      ...document.frontends[0],
      bind: { address: '::ffff:127.0.0.1', port: livePort },
    };
    const dry = await t.request.post('/api/v1/config/validate').send(document);
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.changed).toBe(false);
    const put = await t.request.put('/api/v1/config').send(document);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.changed).toBe(false);
    expect(put.body.frontends[0].bind).toEqual({ address: '127.0.0.1', port: livePort });
    expect(await accepts(livePort)).toBe(true);
  });

  it('refuses an IPv4-mapped allow block with an IPv4 prefix on both paths, and takes its IPv6 spelling', async () => {
    const document = await config();
    document.frontends[0] = { ...document.frontends[0], allow: ['::ffff:10.0.0.0/8'] };
    // The request's shape is checked first: the field is the list (class-validator names no entry).
    await bothRefuse(document, 400, 'frontends[0].allow');
    await refused(
      () => t.request.patch('/api/v1/frontends/live').send({ allow: ['::ffff:10.0.0.0/8'] }),
      400,
      'allow',
    );
    document.frontends[0] = { ...document.frontends[0], allow: ['::ffff:10.0.0.0/104', '127.0.0.0/8'] };
    expect((await t.request.post('/api/v1/config/validate').send(document)).status).toBe(200);
    const put = await t.request.put('/api/v1/config').send(document);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(await accepts(livePort)).toBe(true);
  });

  it('holds maxconn and inter to the same limits everywhere', async () => {
    const document = await config();
    await bothRefuse({ ...document, defaults: { maxconn: 1_000_001 } }, 400, 'defaults.maxconn');
    const slow = structuredClone(document);
    (slow.backends[0].check as Record<string, unknown>).inter = 86_400_001;
    await bothRefuse(slow, 400, 'backends[0].check.inter');
    await refused(
      () => t.request.patch('/api/v1/backends/b').send({ check: { inter: 86_400_001 } }),
      400,
      'check.inter',
    );
  });
});

describe('errors name every field (point 15)', () => {
  it('lists every bad field of a request body', async () => {
    const res = await refused(
      () =>
        t.request
          .post('/api/v1/frontends')
          .send({ name: 'bad name', bind: { address: 'nowhere', port: 0 }, backend: 'b', colour: 'red' }),
      400,
    );
    const fields = (res.body.errors as Array<{ field: string; code: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'bind.address', 'bind.port', 'colour']));
    for (const entry of res.body.errors as Array<{ code: string }>)
      expect(entry.code).toBe('VALIDATION_FAILED');
  });

  it('lists every issue of a whole document, each with the code of its kind, the most relevant first', async () => {
    const document = await config();
    document.frontends.push(
      { name: 'orphan', bind: { address: '127.0.0.1', port: await freePort() }, backend: 'ghost' },
      { name: 'twin', bind: { address: '127.0.0.1', port: livePort }, backend: 'b' },
    );
    const res = await refused(() => t.request.post('/api/v1/config/validate').send(document), 422);
    // The issue in an item the document changed comes first.
    expect(res.body.field).toBe('frontends[1].backend');
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'frontends[1].backend', code: 'UNKNOWN_REFERENCE' }),
        expect.objectContaining({ field: 'frontends[2].bind', code: 'CONFLICT' }),
      ]),
    );
  });

  it('gives an error that concerns no field one entry with an empty field', async () => {
    const res = await t.anonymous.get('/api/v1/config');
    expectError(res, 401);
    expect(res.body.errors).toEqual([{ field: '', code: 'UNAUTHENTICATED', message: res.body.message }]);
  });
});

describe('If-Match first (point 16)', () => {
  it('answers 412 to a stale request whatever else is wrong with it', async () => {
    const stale = `"${(await headRevision(t)) - 1}"`;
    const stalePatch = (path: string, body: object) => () =>
      t.request.patch(path).set('If-Match', stale).send(body);
    await refused(stalePatch('/api/v1/frontends/live', { bind: { port: 70000 } }), 412, 'If-Match');
    await refused(stalePatch('/api/v1/frontends/ghost', { enabled: false }), 412, 'If-Match');
    await refused(stalePatch('/api/v1/backends/b', { colour: 'red' }), 412, 'If-Match');
    await refused(
      () => t.request.post('/api/v1/frontends').set('If-Match', stale).send({ name: 'x', backend: 'ghost' }),
      412,
      'If-Match',
    );
    const document = { ...(await config()), frontends: [{ name: '..', bind: { port: 0 }, backend: 'nope' }] };
    for (const send of [
      () => t.request.put('/api/v1/config').set('If-Match', stale).send(document),
      async () =>
        t.request.put('/api/v1/config').send({ ...document, revision: (await headRevision(t)) - 1 }),
      () => t.request.post('/api/v1/config/validate').set('If-Match', stale).send(document),
    ]) {
      await refused(send, 412, 'If-Match');
    }
  });
});

describe('inputs that cannot work are refused (point 17)', () => {
  it('refuses the names . and ..', async () => {
    for (const name of ['.', '..']) {
      await refused(() => t.request.post('/api/v1/backends').send(backendBody(name)), 400, 'name');
      const document = await config();
      document.backends.push(backendBody(name));
      await bothRefuse(document, 400, `backends[${document.backends.length - 1}].name`);
    }
    expect((await t.request.post('/api/v1/backends').send(backendBody('.hidden.'))).status).toBe(201);
  });

  it('reads path ids as plain decimals only', async () => {
    const head = await headRevision(t);
    expect((await t.request.get(`/api/v1/revisions/${head}`)).status).toBe(200);
    for (const id of ['0x1', '1e0', '+1', '01', ' 1', '1.0', '-1', '9'.repeat(16)]) {
      await refused(() => t.request.get(`/api/v1/revisions/${encodeURIComponent(id)}`), 400, 'id');
      await refused(() => t.request.post(`/api/v1/revisions/${encodeURIComponent(id)}/rollback`), 400, 'id');
      await refused(() => t.request.delete(`/api/v1/tokens/${encodeURIComponent(id)}`), 400, 'id');
    }
  });

  it('refuses broadcast and multicast bind addresses', async () => {
    for (const address of ['255.255.255.255', '224.0.0.1', '239.1.2.3', 'ff02::1', '::ffff:224.0.0.1']) {
      const port = await freePort();
      await refused(
        () =>
          t.request.post('/api/v1/frontends').send({ name: 'cast', bind: { address, port }, backend: 'b' }),
        400,
        'bind.address',
      );
      const document = await config();
      document.frontends.push({ name: 'cast', bind: { address, port }, backend: 'b' });
      await bothRefuse(document, 400, 'frontends[1].bind.address');
    }
  });

  it('refuses an empty allow-list; null or absent means everyone', async () => {
    await refused(() => t.request.patch('/api/v1/frontends/live').send({ allow: [] }), 400, 'allow');
    const document = await config();
    document.frontends[0] = { ...document.frontends[0], allow: [] };
    await bothRefuse(document, 400, 'frontends[0].allow');
    await t.request
      .patch('/api/v1/frontends/live')
      .send({ allow: ['127.0.0.1'] })
      .expect(200);
    const cleared = await t.request.patch('/api/v1/frontends/live').send({ allow: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.allow).toBeUndefined();
    expect(await accepts(livePort)).toBe(true);
  });

  it('counts a CMPP sourceAddr in bytes', async () => {
    const check = (sourceAddr: string) => ({
      check: { type: 'cmpp', cmpp: { sourceAddr, secret: 'x', version: '3.0' } },
    });
    // Two CJK characters are 6 bytes; three are 9, over CMPP's 6-byte Octet String.
    expect(
      (await t.request.post('/api/v1/backends').send(backendBody('sa6', [], check('中文')))).status,
    ).toBe(201);
    await refused(
      () => t.request.post('/api/v1/backends').send(backendBody('sa9', [], check('中文字'))),
      400,
      'check.cmpp.sourceAddr',
    );
    const document = await config();
    document.backends.push(backendBody('sa9', [], check('中文字')));
    await bothRefuse(document, 400, `backends[${document.backends.length - 1}].check.cmpp.sourceAddr`);
  });

  it('refuses control characters in a revision message', async () => {
    for (const message of ['line\nbreak', 'tab\there', 'bell\u0007', 'nel\u0085']) {
      await refused(
        () => t.request.patch('/api/v1/backends/b').query({ message }).send({ balance: 'first' }),
        400,
        'message',
      );
    }
    const ok = await t.request
      .patch('/api/v1/backends/b')
      .query({ message: 'tuning — été' })
      .send({ balance: 'first' });
    expect(ok.status).toBe(200);
  });
});

describe('the CMPP options, once refused as not built (point 18), are built now', () => {
  const cmppCheck = { type: 'cmpp', cmpp: { sourceAddr: '900001', secret: 's', version: '3.0' } };

  it('accepts inspect cmpp and check.type cmpp on the resource routes', async () => {
    const inspecting = await t.request.patch('/api/v1/frontends/live').send({ inspect: 'cmpp' });
    expect(inspecting.status, JSON.stringify(inspecting.body)).toBe(200);
    const none = await t.request.patch('/api/v1/frontends/live').send({ inspect: 'none' });
    expect(none.status, JSON.stringify(none.body)).toBe(200);
    const checked = await t.request.post('/api/v1/backends').send(backendBody('c', [], { check: cmppCheck }));
    expect(checked.status, JSON.stringify(checked.body)).toBe(201);
    expect((await t.request.delete('/api/v1/backends/c')).status).toBeLessThan(300);
  });
});

describe('a config stored under older rules (points 17 and 18)', () => {
  it('boots, takes changes that leave its old values alone, and refuses to set them again', async () => {
    const { dbPath, cleanup } = tempDbPath();
    const port = await freePort();
    let app = await startApp({ dbPath });
    try {
      await app.request
        .post('/api/v1/backends')
        .send(backendBody('old', [serverBody('s1', upstream.port)]))
        .expect(201);
      await app.request
        .post('/api/v1/frontends')
        .send(frontendBody('fe', port, 'old'))
        .expect(201);
      await app.close();
      // What older rules let through, written into the head revision as they stored it.
      const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => {
        prepare(sql: string): { get(): { id: number; snapshot: string }; run(...params: unknown[]): unknown };
        close(): void;
      };
      const db = new Database(dbPath);
      try {
        const head = db.prepare('SELECT id, snapshot FROM revisions ORDER BY id DESC LIMIT 1').get();
        const snapshot = JSON.parse(head.snapshot);
        snapshot.frontends[0] = { ...snapshot.frontends[0], allow: [], inspect: 'cmpp' };
        snapshot.backends[0].check = {
          ...snapshot.backends[0].check,
          type: 'cmpp',
          cmpp: { sourceAddr: '中文字', secret: 'x', version: '3.0' },
        };
        db.prepare('UPDATE revisions SET snapshot = ? WHERE id = ?').run(JSON.stringify(snapshot), head.id);
      } finally {
        db.close();
      }
      app = await startApp({ dbPath });
      expect((await app.request.get('/api/v1/frontends/fe')).body.status).toBe('OPEN');
      // A weight change, a new frontend and the whole config sent back as read all go through.
      await app.request.patch('/api/v1/backends/old/servers/s1').send({ weight: 5 }).expect(200);
      await app.request.patch('/api/v1/frontends/fe').send({ maxconn: 10 }).expect(200);
      const { revision: _, ...document } = (await app.request.get('/api/v1/config')).body;
      const back = await app.request.put('/api/v1/config').send(document);
      expect(back.status, JSON.stringify(back.body)).toBe(200);
      // Setting any of those values anew is refused.
      const other = await freePort();
      expectError(
        await app.request.post('/api/v1/frontends').send(frontendBody('new', other, 'old', { allow: [] })),
        400,
        'allow',
      );
    } finally {
      await app.close();
      cleanup();
    }
  });
});
