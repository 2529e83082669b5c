// One read path: every read of the config (GET /config, /frontends, /backends, /servers) comes from the
// head revision in memory; the tables are only its store. A row changed behind the app's back shows up
// nowhere, and every view agrees with GET /config.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort } from '../helpers/net.js';
import { writeDatabase } from '../helpers/sqlite.js';
import { backendBody, frontendBody, serverBody } from './fixtures.js';

describe('one read path', () => {
  let t: StartedApp;
  beforeAll(async () => {
    t = await startApp();
    const [fePort, s1Port] = [await freePort(), await freePort()];
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('b', [serverBody('s1', s1Port)]))
      .expect(201);
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe', fePort, 'b'))
      .expect(201);
  });
  afterAll(() => t.close());

  it('reads frontends, backends and servers from the head, not from the tables', async () => {
    const changed = writeDatabase(t.dbPath, (db) => ({
      frontends: db.prepare(`UPDATE frontends SET maxconn = 7, bindPort = 1 WHERE name = 'fe'`).run().changes,
      servers: db.prepare(`UPDATE servers SET weight = 99 WHERE name = 's1'`).run().changes,
      backends: db.prepare(`UPDATE backends SET balance = 'first' WHERE name = 'b'`).run().changes,
    }));
    expect(changed).toEqual({ frontends: 1, servers: 1, backends: 1 });

    const config = (await t.request.get('/api/v1/config').expect(200)).body;
    const [frontend] = config.frontends;
    const [backend] = config.backends;
    expect(frontend.name).toBe('fe');
    expect(frontend).not.toHaveProperty('maxconn');
    expect(frontend.bind.port).not.toBe(1);
    expect(backend).toMatchObject({ name: 'b', balance: 'roundrobin', servers: [{ name: 's1', weight: 1 }] });

    const frontends = (await t.request.get('/api/v1/frontends').expect(200)).body;
    expect(frontends).toEqual([expect.objectContaining(frontend)]);
    expect((await t.request.get('/api/v1/frontends/fe').expect(200)).body).toMatchObject(frontend);
    const { servers, ...backendFields } = backend;
    const backends = (await t.request.get('/api/v1/backends').expect(200)).body;
    expect(backends).toEqual([expect.objectContaining(backendFields)]);
    expect((await t.request.get('/api/v1/backends/b').expect(200)).body).toMatchObject(backendFields);
    expect((await t.request.get('/api/v1/backends/b/servers').expect(200)).body).toEqual([
      expect.objectContaining(servers[0]),
    ]);
    expect((await t.request.get('/api/v1/backends/b/servers/s1').expect(200)).body).toMatchObject(servers[0]);
    // Missing names are still 404s.
    await t.request.get('/api/v1/frontends/nope').expect(404);
    await t.request.get('/api/v1/backends/nope').expect(404);
    await t.request.get('/api/v1/backends/b/servers/nope').expect(404);
  });
});
