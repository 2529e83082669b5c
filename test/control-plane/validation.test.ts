// Every kind of bad request answers its code, names the field, and changes nothing: neither the
// revision count nor the runtime's listeners.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
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

/** Sends a bad request and checks that nothing changed: revisions, the live listener, a spare port. */
async function refused(
  send: () => Promise<ApiResponse>,
  status: number,
  field?: string,
  unboundPort?: number,
) {
  const res = await refusedUnchanged(t, livePort, send, status, field);
  if (unboundPort !== undefined) expect(await accepts(unboundPort)).toBe(false);
  return res;
}

describe('request shape (400)', () => {
  it('names a missing nested field', async () => {
    const port = await freePort();
    await refused(
      () =>
        t.request.post('/api/v1/frontends').send({ name: 'x', bind: { address: '127.0.0.1' }, backend: 'b' }),
      400,
      'bind.port',
      port,
    );
  });

  it('refuses a port out of range', async () => {
    await refused(
      () => t.request.post('/api/v1/frontends').send(frontendBody('x', 70000, 'b')),
      400,
      'bind.port',
    );
  });

  it('refuses an unknown field', async () => {
    const port = await freePort();
    const res = await refused(
      () => t.request.post('/api/v1/frontends').send({ ...frontendBody('x', port, 'b'), colour: 'red' }),
      400,
      'colour',
      port,
    );
    expect(res.body.message).toContain('should not exist');
  });

  it('refuses a weight above 256 and below 0', async () => {
    await refused(
      () => t.request.patch('/api/v1/backends/b/servers/s1').send({ weight: 257 }),
      400,
      'weight',
    );
    await refused(() => t.request.patch('/api/v1/backends/b/servers/s1').send({ weight: -1 }), 400, 'weight');
  });

  it('refuses a malformed CIDR in the allow-list', async () => {
    await refused(
      () => t.request.patch('/api/v1/frontends/live').send({ allow: ['10.0.0.0/33'] }),
      400,
      'allow',
    );
    await refused(
      () => t.request.patch('/api/v1/frontends/live').send({ allow: ['10.0.0.300'] }),
      400,
      'allow',
    );
  });

  it('refuses a bad name and a bad enum value', async () => {
    await refused(() => t.request.post('/api/v1/backends').send(backendBody('bad name')), 400, 'name');
    await refused(() => t.request.patch('/api/v1/backends/b').send({ balance: 'random' }), 400, 'balance');
  });

  it('names the path of a bad field deep in a whole-config PUT', async () => {
    const config = (await t.request.get('/api/v1/config')).body;
    config.backends[0].servers[0].port = 0;
    await refused(() => t.request.put('/api/v1/config').send(config), 400, 'backends[0].servers[0].port');
  });

  it('refuses a cmpp check without its credentials (400), naming check.cmpp', async () => {
    const res = await refused(
      () => t.request.patch('/api/v1/backends/b').send({ check: { type: 'cmpp' } }),
      400,
      'check.cmpp',
    );
    expect(res.body.errors).toContainEqual(expect.objectContaining({ field: 'check.cmpp' }));
  });

  it('refuses malformed JSON with the same error shape, naming the body', async () => {
    const res = await refused(
      () => t.request.post('/api/v1/backends').set('Content-Type', 'application/json').send('{"name":'),
      400,
      'body',
    );
    expect(res.body.message).toMatch(/^body is not valid JSON/);
  });

  it('refuses a body that is not JSON with 415 rather than guessing at it', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await refused(
        () => t.request.post('/api/v1/backends').set('Content-Type', type).send('name=form-made'),
        415,
        'Content-Type',
      );
      expect(res.body.message).toContain(type);
    }
    await t.request.get('/api/v1/backends/form-made').expect(404);
  });

  it('refuses a __proto__ key while parsing', async () => {
    const port = await freePort();
    await refused(
      () =>
        t.request
          .post('/api/v1/frontends')
          .set('Content-Type', 'application/json')
          .send(
            `{"name":"proto","bind":{"address":"127.0.0.1","port":${port}},"backend":"b","__proto__":{"x":1}}`,
          ),
      400,
      '__proto__',
      port,
    );
  });

  it('names the path parameter that is not a number', async () => {
    await refused(() => t.request.delete('/api/v1/tokens/abc'), 400, 'id');
    await refused(() => t.request.get('/api/v1/revisions/abc'), 400, 'id');
  });

  it('refuses shutdownSessions with a state other than maint', async () => {
    await refused(
      () =>
        t.request.put('/api/v1/backends/b/servers/s1/state').send({ state: 'drain', shutdownSessions: true }),
      400,
      'shutdownSessions',
    );
  });
});

describe('cross-references', () => {
  it('answers 422 naming backend for an unknown backend', async () => {
    const port = await freePort();
    const res = await refused(
      () => t.request.post('/api/v1/frontends').send(frontendBody('x', port, 'nope')),
      422,
      'backend',
      port,
    );
    expect(res.body.error).toBe('Unprocessable Entity');
  });

  it('answers 409 naming name for a duplicate frontend, backend or server name', async () => {
    const port = await freePort();
    await refused(
      () => t.request.post('/api/v1/frontends').send(frontendBody('live', port, 'b')),
      409,
      'name',
      port,
    );
    await refused(() => t.request.post('/api/v1/backends').send(backendBody('b')), 409, 'name');
    await refused(
      () => t.request.post('/api/v1/backends/b/servers').send(serverBody('s1', upstream.port)),
      409,
      'name',
    );
  });

  it('answers 409 naming bind for a duplicate or overlapping bind', async () => {
    await refused(
      () => t.request.post('/api/v1/frontends').send(frontendBody('x', livePort, 'b')),
      409,
      'bind',
    );
    await refused(
      () =>
        t.request
          .post('/api/v1/frontends')
          .send({ name: 'y', bind: { address: '0.0.0.0', port: livePort }, backend: 'b' }),
      409,
      'bind',
    );
  });

  it('names the new end of a bind clash in a whole document, whatever its position', async () => {
    const config = (await t.request.get('/api/v1/config')).body;
    const clash = { name: 'newcomer', bind: { address: '127.0.0.1', port: livePort }, backend: 'b' };
    for (const frontends of [
      [...config.frontends, clash],
      [clash, ...config.frontends],
    ]) {
      const document = { defaults: config.defaults, backends: config.backends, frontends };
      const index = frontends.indexOf(clash);
      for (const send of [
        () => t.request.post('/api/v1/config/validate').send(document),
        () => t.request.put('/api/v1/config').send(document),
      ]) {
        const res = await refused(send, 409, `frontends[${index}].bind`);
        expect(res.body.message).toContain('of frontend "live"');
      }
    }
  });

  it('answers 404 for what the URL names but does not exist', async () => {
    await refused(() => t.request.patch('/api/v1/frontends/ghost').send({ enabled: false }), 404);
    await refused(() => t.request.delete('/api/v1/backends/ghost'), 404);
    await refused(
      () => t.request.put('/api/v1/backends/b/servers/ghost/state').send({ state: 'drain' }),
      404,
    );
    await refused(() => t.request.post('/api/v1/revisions/9999/rollback'), 404);
    await refused(() => t.request.get('/api/v1/revisions/abc'), 400, 'id');
  });
});

describe('runtime refusal', () => {
  it('answers 409 with the cause when the port is taken by another socket, and keeps database and runtime as before', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const taken = (squatter.address() as net.AddressInfo).port;
    try {
      const res = await refused(
        () => t.request.post('/api/v1/frontends').send(frontendBody('x', taken, 'b')),
        409,
        'bind',
      );
      expect(res.body).toMatchObject({ code: 'APPLY_FAILED', cause: 'EADDRINUSE' });
      expect(res.body.message).toContain('EADDRINUSE');
      // Moving the live frontend onto the taken port fails the same way; it keeps listening where it was.
      await refused(
        () => t.request.patch('/api/v1/frontends/live').send({ bind: { address: '127.0.0.1', port: taken } }),
        409,
        'bind',
      );
      expect((await t.request.get('/api/v1/frontends/live')).body.bind.port).toBe(livePort);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});

describe('If-Match', () => {
  it('answers 412 on a stale revision and changes nothing', async () => {
    const head = await headRevision(t);
    await t.request.post('/api/v1/backends').send(backendBody('b-im')).expect(201);
    const res = await refused(
      () => t.request.patch('/api/v1/backends/b-im').set('If-Match', `"${head}"`).send({ balance: 'first' }),
      412,
    );
    expect(res.body.field).toBe('If-Match');
    expect((await t.request.get('/api/v1/backends/b-im')).body.balance).toBe('roundrobin');
  });

  it('accepts the current revision and answers 400 on a malformed header', async () => {
    const current = await headRevision(t);
    const ok = await t.request
      .patch('/api/v1/backends/b-im')
      .set('If-Match', `"${current}"`)
      .send({ balance: 'first' });
    expect(ok.status).toBe(200);
    expect(ok.headers.etag).toBe(`"${current + 1}"`);
    await refused(
      () =>
        t.request.patch('/api/v1/backends/b-im').set('If-Match', 'yesterday').send({ balance: 'leastconn' }),
      400,
      'If-Match',
    );
  });
});

describe('If-Match on changes that make no revision', () => {
  it('refuses a stale admin state, shutdown or session kill with 412 and changes nothing', async () => {
    const stale = `"${(await headRevision(t)) - 1}"`;
    const client = net.connect(livePort, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    try {
      let sessions: Array<{ id: string }> = [];
      for (let i = 0; i < 50 && sessions.length === 0; i++) {
        sessions = (await t.request.get('/api/v1/sessions')).body;
        if (sessions.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(sessions).toHaveLength(1);

      const drain = await t.request
        .put('/api/v1/backends/b/servers/s1/state')
        .set('If-Match', stale)
        .send({ state: 'drain' });
      expectError(drain, 412, 'If-Match');
      const cut = await t.request
        .post('/api/v1/backends/b/servers/s1/shutdown-sessions')
        .set('If-Match', stale);
      expectError(cut, 412, 'If-Match');
      const kill = await t.request.delete(`/api/v1/sessions/${sessions[0]!.id}`).set('If-Match', stale);
      expectError(kill, 412, 'If-Match');

      const stats = (await t.request.get('/api/v1/stats')).body;
      const s1 = stats.backends.find((b: { name: string }) => b.name === 'b').servers[0];
      expect(s1).toMatchObject({ adminState: 'ready', scur: 1 });
      expect(client.destroyed).toBe(false);

      // The current revision is accepted.
      const current = `"${await headRevision(t)}"`;
      await t.request
        .put('/api/v1/backends/b/servers/s1/state')
        .set('If-Match', current)
        .send({ state: 'ready' })
        .expect(200);
    } finally {
      client.destroy();
    }
  });
});

describe('audit of failures', () => {
  it('records refused changes as failed, with the reason', async () => {
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('audited', 70000, 'b'))
      .expect(400);
    const res = await t.request.get('/api/v1/audit').query({ action: 'frontend.create', result: 'failed' });
    expect(res.status).toBe(200);
    expect(res.body.items[0]).toMatchObject({
      action: 'frontend.create',
      result: 'failed',
      target: 'audited',
    });
    expect(res.body.items[0].detail).toContain('bind.port');
  });
});
