// Frontends, backends, servers and the whole config over HTTP: every accepted change is live when the
// response returns and makes exactly one revision, carried as ETag and in the body.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort, listen, named, connect, readLine, type TestServer } from '../helpers/net.js';
import { accepts, backendBody, frontendBody, headRevision, revisionCount, serverBody } from './fixtures.js';

let t: StartedApp;
let upstreams: TestServer[] = [];

beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t?.close());
afterEach(async () => {
  await Promise.all(upstreams.map((u) => u.close()));
  upstreams = [];
});

async function upstream(name: string): Promise<TestServer> {
  const server = await listen(named(name));
  upstreams.push(server);
  return server;
}

describe('backends and servers', () => {
  it('creates, reads, patches, replaces and deletes a backend with its servers', async () => {
    const a = await upstream('a');
    const before = await revisionCount(t);

    const created = await t.request
      .post('/api/v1/backends')
      .send(backendBody('b-crud', [serverBody('s1', a.port)]));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'b-crud',
      balance: 'roundrobin',
      hashType: 'consistent',
      sendProxy: 'none',
      onMarkedDown: 'keep',
      check: { type: 'none', inter: 5000, fall: 3, rise: 2 },
      servers: [
        {
          name: 's1',
          address: '127.0.0.1',
          port: a.port,
          weight: 1,
          backup: false,
          check: true,
          adminState: 'ready',
        },
      ],
      changed: true,
    });
    expect(created.headers.etag).toBe(`"${created.body.revision}"`);
    expect(await revisionCount(t)).toBe(before + 1);

    const got = await t.request.get('/api/v1/backends/b-crud');
    expect(got.status).toBe(200);
    expect(got.body.servers.map((s: { name: string }) => s.name)).toEqual(['s1']);
    expect((await t.request.get('/api/v1/backends')).body.map((b: { name: string }) => b.name)).toContain(
      'b-crud',
    );

    const patched = await t.request.patch('/api/v1/backends/b-crud').send({ balance: 'leastconn' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ balance: 'leastconn', servers: [{ name: 's1' }], changed: true });

    // PUT without servers keeps them; every other field is replaced (defaults where left out).
    const replaced = await t.request.put('/api/v1/backends/b-crud').send({ balance: 'first' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ balance: 'first', servers: [{ name: 's1' }] });

    const server = await t.request
      .post('/api/v1/backends/b-crud/servers')
      .send(serverBody('s2', a.port, { weight: 5 }));
    expect(server.status).toBe(201);
    expect(server.body).toMatchObject({ name: 's2', weight: 5, changed: true, adminState: 'ready' });
    expect((await t.request.get('/api/v1/backends/b-crud/servers/s2')).body.weight).toBe(5);

    const weight = await t.request.patch('/api/v1/backends/b-crud/servers/s2').send({ weight: 7 });
    expect(weight.body).toMatchObject({ name: 's2', weight: 7, port: a.port });
    const put = await t.request
      .put('/api/v1/backends/b-crud/servers/s2')
      .send({ address: '127.0.0.1', port: a.port, backup: true });
    expect(put.body).toMatchObject({ name: 's2', weight: 1, backup: true });

    expect((await t.request.delete('/api/v1/backends/b-crud/servers/s2')).status).toBe(200);
    expect((await t.request.get('/api/v1/backends/b-crud/servers/s2')).status).toBe(404);

    const deleted = await t.request.delete('/api/v1/backends/b-crud');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ revision: deleted.body.revision, changed: true });
    expect((await t.request.get('/api/v1/backends/b-crud')).status).toBe(404);
    // create, patch, put, add server, patch server, put server, delete server, delete backend
    expect(await revisionCount(t)).toBe(before + 8);
  });

  it('answers 200 with the current revision and makes none when a change changes nothing', async () => {
    await t.request.post('/api/v1/backends').send(backendBody('b-same')).expect(201);
    const head = await headRevision(t);
    const count = await revisionCount(t);
    const res = await t.request.patch('/api/v1/backends/b-same').send({ balance: 'roundrobin' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ revision: head, changed: false });
    expect(res.headers.etag).toBe(`"${head}"`);
    expect(await revisionCount(t)).toBe(count);
  });
});

describe('roles', () => {
  it('lets an operator change a weight but no other server field (403 naming it, audited as denied)', async () => {
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('b-op', [serverBody('s1', 1)]))
      .expect(201);
    const operator = await t.as('operator');
    const weight = await operator.patch('/api/v1/backends/b-op/servers/s1').send({ weight: 4 });
    expect(weight.status).toBe(200);
    expect(weight.body).toMatchObject({ weight: 4, changed: true });

    const count = await revisionCount(t);
    const port = await operator.patch('/api/v1/backends/b-op/servers/s1').send({ weight: 5, port: 2 });
    expect(port.status).toBe(403);
    expect(port.body).toMatchObject({ statusCode: 403, error: 'Forbidden', field: 'port' });
    expect(await revisionCount(t)).toBe(count);
    expect((await t.request.get('/api/v1/backends/b-op/servers/s1')).body).toMatchObject({
      weight: 4,
      port: 1,
    });
    const audit = await t.request.get('/api/v1/audit').query({ action: 'server.update', result: 'denied' });
    expect(audit.body.items[0]).toMatchObject({ target: 'b-op/s1', role: 'operator' });
  });
});

describe('frontends', () => {
  it('creates a frontend that accepts connections before the response returns, then moves and removes it', async () => {
    const a = await upstream('alpha');
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('b-fe', [serverBody('s1', a.port)]))
      .expect(201);
    const port = await freePort();

    const created = await t.request.post('/api/v1/frontends').send(frontendBody('fe-crud', port, 'b-fe'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'fe-crud',
      bind: { address: '127.0.0.1', port },
      backend: 'b-fe',
      enabled: true,
      status: 'OPEN',
      changed: true,
    });
    const client = await connect(port);
    expect(await readLine(client)).toBe('alpha');

    const got = await t.request.get('/api/v1/frontends/fe-crud');
    expect(got.body).toMatchObject({ name: 'fe-crud', status: 'OPEN' });
    expect(got.headers.etag).toBe(`"${created.body.revision}"`);
    expect((await t.request.get('/api/v1/frontends')).body.map((f: { name: string }) => f.name)).toContain(
      'fe-crud',
    );

    const moved = await freePort();
    const patched = await t.request
      .patch('/api/v1/frontends/fe-crud')
      .send({ bind: { address: '127.0.0.1', port: moved } });
    expect(patched.status).toBe(200);
    expect(await accepts(moved)).toBe(true);
    expect(await accepts(port)).toBe(false);
    // A config change never cuts a connection.
    client.write('still here\n');
    expect(await readLine(client)).toBe('still here');
    client.destroy();

    const disabled = await t.request.put('/api/v1/frontends/fe-crud').send({
      bind: { address: '127.0.0.1', port: moved },
      backend: 'b-fe',
      enabled: false,
      allow: ['127.0.0.0/8'],
    });
    expect(disabled.body).toMatchObject({ enabled: false, status: 'STOP', allow: ['127.0.0.0/8'] });
    expect(await accepts(moved)).toBe(false);

    const cleared = await t.request.patch('/api/v1/frontends/fe-crud').send({ allow: null, enabled: true });
    expect(cleared.body.allow).toBeUndefined();
    expect(cleared.body.status).toBe('OPEN');

    expect((await t.request.delete('/api/v1/frontends/fe-crud')).status).toBe(200);
    expect(await accepts(moved)).toBe(false);
    expect((await t.request.get('/api/v1/frontends/fe-crud')).status).toBe(404);
  });

  it('refuses to delete a backend a frontend uses (409 naming name)', async () => {
    await t.request.post('/api/v1/backends').send(backendBody('b-used')).expect(201);
    const port = await freePort();
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe-uses', port, 'b-used'))
      .expect(201);
    const res = await t.request.delete('/api/v1/backends/b-used');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict', field: 'name' });
    expect(res.body.message).toContain('fe-uses');
    await t.request.delete('/api/v1/frontends/fe-uses').expect(200);
  });

  it('renaming a backend carries its frontends along', async () => {
    await t.request.post('/api/v1/backends').send(backendBody('b-old')).expect(201);
    const port = await freePort();
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe-rename', port, 'b-old'))
      .expect(201);
    const res = await t.request.patch('/api/v1/backends/b-old').send({ name: 'b-new' });
    expect(res.status).toBe(200);
    expect((await t.request.get('/api/v1/frontends/fe-rename')).body.backend).toBe('b-new');
    await t.request.delete('/api/v1/frontends/fe-rename').expect(200);
  });
});

describe('whole config', () => {
  it('replaces the config atomically, round-trips GET → PUT, and dry-runs with a diff and the impact', async () => {
    const a = await upstream('whole');
    const port = await freePort();
    const document = {
      defaults: { maxconn: 1000 },
      frontends: [frontendBody('fe-whole', port, 'b-whole')],
      backends: [backendBody('b-whole', [serverBody('w1', a.port)])],
    };

    const dry = await t.request.post('/api/v1/config/validate').send(document);
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ valid: true, changed: true });
    expect(dry.body.changes).toContainEqual(
      expect.objectContaining({ path: 'frontends[fe-whole]', kind: 'added' }),
    );
    expect(dry.body.text).toContain('+');
    expect(dry.body.impact.listenersOpened).toEqual([{ frontend: 'fe-whole', address: '127.0.0.1', port }]);
    expect(await accepts(port)).toBe(false);

    const count = await revisionCount(t);
    const put = await t.request.put('/api/v1/config').send(document);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      changed: true,
      defaults: { maxconn: 1000 },
      frontends: [{ name: 'fe-whole' }],
    });
    expect(put.headers.etag).toBe(`"${put.body.revision}"`);
    expect(await revisionCount(t)).toBe(count + 1);
    expect(await accepts(port)).toBe(true);
    const kind = (await t.request.get(`/api/v1/revisions/${put.body.revision}`)).body.kind;
    expect(kind).toBe('replace');

    // What GET /config gives back, PUT takes back unchanged: no new revision.
    const current = (await t.request.get('/api/v1/config')).body;
    const again = await t.request.put('/api/v1/config').send(current);
    expect(again.body).toMatchObject({ revision: put.body.revision, changed: false });

    // The body's revision is a precondition like If-Match.
    const stale = await t.request
      .put('/api/v1/config')
      .send({ ...current, revision: current.revision - 1, frontends: [] });
    expect(stale.status).toBe(412);
    expect(await accepts(port)).toBe(true);
  });

  it('serialises concurrent changes: each makes its own revision', async () => {
    const count = await revisionCount(t);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        t.request.post('/api/v1/backends').send(backendBody(`b-race-${i}`)),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
    const revisions = results.map((r) => r.body.revision as number).sort((x, y) => x - y);
    expect(new Set(revisions).size).toBe(6);
    expect(await revisionCount(t)).toBe(count + 6);
    const names = (await t.request.get('/api/v1/config')).body.backends.map((b: { name: string }) => b.name);
    for (let i = 0; i < 6; i++) expect(names).toContain(`b-race-${i}`);
  });

  it('serves the OpenAPI document generated from the DTOs', async () => {
    const res = await t.request.get('/api/docs-json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/frontends',
        '/api/v1/backends/{backend}/servers/{server}/state',
        '/api/v1/revisions/{id}/rollback',
      ]),
    );
    expect(res.body.components.schemas.CreateFrontendDto.properties.bind).toBeDefined();
  });
});
