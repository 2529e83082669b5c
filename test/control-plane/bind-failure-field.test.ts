// A bind the kernel refuses when a change is applied is named by its own field in the 409: `binds[j]` for a
// frontend of several addresses (as the document check names them), `bind` for one of one address; the change
// leaves nothing behind. Real app, a port held by another socket on 127.0.0.1.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort, holdPort, listen, named, type TestServer } from '../helpers/net.js';
import { accepts, backendBody, expectError, frontendBody, serverBody } from './fixtures.js';

let t: StartedApp;
let upstream: TestServer;
let held: { close(): Promise<void> };
let heldPort: number;

beforeAll(async () => {
  upstream = await listen(named('up'));
  t = await startApp();
  await t.request
    .post('/api/v1/backends')
    .send(backendBody('b', [serverBody('s', upstream.port)]))
    .expect(201);
  heldPort = await freePort();
  held = await holdPort(heldPort);
});

afterAll(async () => {
  await held?.close();
  await t?.close();
  await upstream?.close();
});

it('names binds[j] of the bind that failed, on POST /frontends and PUT /config, and applies nothing', async () => {
  const free = await freePort();
  const binds = [
    { address: '127.0.0.1', port: free },
    { address: '127.0.0.1', port: heldPort },
  ];
  const created = await t.request.post('/api/v1/frontends').send({ name: 'two', binds, backend: 'b' });
  expectError(created, 409, 'binds[1]');
  expect(created.body.code).toBe('APPLY_FAILED');
  expect(await accepts(free)).toBe(false);

  const config = (await t.request.get('/api/v1/config').expect(200)).body;
  const { revision, ...document } = config;
  const put = await t.request
    .put('/api/v1/config')
    .send({ ...document, frontends: [{ name: 'two', binds: [...binds].reverse(), backend: 'b' }] });
  expectError(put, 409, 'frontends[0].binds[0]');
  expect(await accepts(free)).toBe(false);
  expect((await t.request.get('/api/v1/config').expect(200)).body.revision).toBe(revision);
});

it('names `bind` for a frontend of one address', async () => {
  expectError(
    await t.request.post('/api/v1/frontends').send(frontendBody('one', heldPort, 'b')),
    409,
    'bind',
  );
});
