// Admin states are runtime state: persisted and audited, no revision, untouched by rollback, restored
// after a restart on the same database file.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import {
  closed,
  connect,
  freePort,
  listen,
  named,
  readLine,
  waitFor,
  type TestServer,
} from '../helpers/net.js';
import { accepts, backendBody, frontendBody, headRevision, revisionCount, serverBody } from './fixtures.js';

const db = tempDbPath();
let t: StartedApp | undefined;
let upstreams: TestServer[] = [];

afterEach(async () => {
  await t?.close();
  t = undefined;
});
afterAll(async () => {
  await Promise.all(upstreams.map((u) => u.close()));
  db.cleanup();
});

describe('admin state', () => {
  let port: number;

  it('drains a server without a revision, audits it, and keeps its sessions open', async () => {
    t = await startApp({ dbPath: db.dbPath });
    upstreams = [await listen(named('one')), await listen(named('two'))];
    port = await freePort();
    await t.request
      .post('/api/v1/backends')
      .send(
        backendBody('b', [serverBody('one', upstreams[0].port), serverBody('two', upstreams[1].port)], {
          balance: 'first',
        }),
      )
      .expect(201);
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe', port, 'b'))
      .expect(201);
    const client = await connect(port);
    expect(await readLine(client)).toBe('one');

    const count = await revisionCount(t);
    const res = await t.request.put('/api/v1/backends/b/servers/one/state').send({ state: 'drain' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      backend: 'b',
      server: 'one',
      previous: 'ready',
      state: 'drain',
      sessionsClosed: 0,
      changed: true,
    });
    expect(await revisionCount(t)).toBe(count);
    expect((await t.request.get('/api/v1/backends/b/servers/one')).body.adminState).toBe('drain');

    // Its client stays connected; new clients avoid it.
    client.write('ping\n');
    expect(await readLine(client)).toBe('ping');
    const next = await connect(port);
    expect(await readLine(next)).toBe('two');
    next.destroy();
    client.destroy();

    const audit = await t.request.get('/api/v1/audit').query({ action: 'server.state' });
    expect(audit.body.items[0]).toMatchObject({ target: 'b/one', result: 'ok', detail: 'ready → drain' });
    expect(audit.body.items[0].sourceAddress).toBe('127.0.0.1');

    const same = await t.request.put('/api/v1/backends/b/servers/one/state').send({ state: 'drain' });
    expect(same.body.changed).toBe(false);
  });

  it('puts a server in maint with shutdownSessions and cuts its sessions; shutdown-sessions counts what it closed', async () => {
    t = await startApp({ dbPath: db.dbPath });
    const clients = [await connect(port), await connect(port)];
    for (const c of clients) expect(await readLine(c)).toBe('two');

    const res = await t.request
      .put('/api/v1/backends/b/servers/two/state')
      .send({ state: 'maint', shutdownSessions: true });
    expect(res.body).toMatchObject({ previous: 'ready', state: 'maint', sessionsClosed: 2 });
    await Promise.all(clients.map((c) => closed(c)));

    await t.request.put('/api/v1/backends/b/servers/two/state').send({ state: 'ready' }).expect(200);
    const more = [await connect(port), await connect(port), await connect(port)];
    for (const c of more) expect(await readLine(c)).toBe('two');
    const cut = await t.request.post('/api/v1/backends/b/servers/two/shutdown-sessions');
    expect(cut.status).toBe(200);
    expect(cut.body).toEqual({ closed: 3 });
    await Promise.all(more.map((c) => closed(c)));
    const audit = await t.request.get('/api/v1/audit').query({ action: 'server.shutdown-sessions' });
    expect(audit.body.items[0]).toMatchObject({ target: 'b/two', detail: '3 session(s) closed' });
  });

  it('is restored after a restart on the same database, and a rollback leaves it alone', async () => {
    t = await startApp({ dbPath: db.dbPath });
    // Survived the restart from the first test: 'one' is still drained.
    expect((await t.request.get('/api/v1/backends/b/servers/one')).body.adminState).toBe('drain');
    expect(await accepts(port)).toBe(true);
    const c = await connect(port);
    expect(await readLine(c)).toBe('two');
    c.destroy();

    // Remove 'one', roll back to get it again: it comes back drained (state is kept by name).
    const withOne = await headRevision(t);
    await t.request.delete('/api/v1/backends/b/servers/one').expect(200);
    const rollback = await t.request.post(`/api/v1/revisions/${withOne}/rollback`);
    expect(rollback.status).toBe(200);
    await waitFor(
      async () => (await t!.request.get('/api/v1/backends/b/servers/one')).body.adminState === 'drain',
      2000,
      'drain restored',
    );

    await t.request.put('/api/v1/backends/b/servers/one/state').send({ state: 'maint' }).expect(200);
    await t.request.post(`/api/v1/revisions/${withOne}/rollback`).expect(200);
    expect((await t.request.get('/api/v1/backends/b/servers/one')).body.adminState).toBe('maint');
  });
});
