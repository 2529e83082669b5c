// Server host names through the API: a name that resolves is applied (stats show its address); one that
// doesn't is a 422 naming the field, from PUT /config, from a server's own route, and from the dry run
// (POST /config/validate), which must answer what the change would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { connect, freePort, listen, named, readLine, type TestServer } from '../helpers/net.js';
import { backendBody, expectError, frontendBody, revisionCount, serverBody } from './fixtures.js';

describe('server host names', () => {
  let t: StartedApp;
  let upstream: TestServer;
  let port: number;

  beforeAll(async () => {
    t = await startApp();
    upstream = await listen(named('up'));
    port = await freePort();
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  const config = (address: string) => ({
    backends: [backendBody('b', [serverBody('s', upstream.port, { address })])],
    frontends: [frontendBody('fe', port, 'b')],
  });

  it('applies a name that resolves', async () => {
    const res = await t.request.put('/api/v1/config').send(config('localhost'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await readLine(await connect(port))).toBe('up');
    const stats = (await t.request.get('/api/v1/stats').expect(200)).body as RuntimeStats;
    expect(stats.backends[0].servers[0]).toMatchObject({ address: 'localhost', resolved: '127.0.0.1' });
  });

  it('refuses a name that does not resolve with 422 naming the field, in the change and in the dry run', async () => {
    const count = await revisionCount(t);
    const put = await t.request.put('/api/v1/config').send(config('nothing.invalid'));
    expectError(put, 422, 'backends[0].servers[0].address');
    expect(put.body.code).toBe('UNKNOWN_REFERENCE');
    expect(put.body.message).toContain('nothing.invalid');

    const dry = await t.request.post('/api/v1/config/validate').send(config('nothing.invalid'));
    expectError(dry, 422, 'backends[0].servers[0].address');
    expect(dry.body.code).toBe(put.body.code);

    const added = await t.request
      .post('/api/v1/backends/b/servers')
      .send(serverBody('s2', upstream.port, { address: 'also-nothing.invalid' }));
    expectError(added, 422, 'address');

    expect(await revisionCount(t)).toBe(count);
    expect(await readLine(await connect(port))).toBe('up');
    expect((await t.request.post('/api/v1/config/validate').send(config('localhost'))).status).toBe(200);
  });
});
