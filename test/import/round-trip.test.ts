// Issue 9, point 2: import → export → `haproxy -c` → import again gives the same config. The seed file goes in
// (ports rewritten), comes out as a file Debian's HAProxy accepts, and that file imported back changes nothing.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { echo, freePort, listen, type TestServer } from '../helpers/net.js';
import { haproxyCheck } from '../haproxy/haproxy-check.js';
import { haproxyMissing } from '../stats/haproxy.js';

const SEED = readFileSync(new URL('../haproxy/fixtures/seed.cfg', import.meta.url), 'utf8');
const missing = haproxyMissing();
if (missing) console.warn(`skipping the import/export round trip: ${missing}`);

describe.skipIf(missing !== undefined)('haproxy.cfg round trip', () => {
  let t: StartedApp;
  const upstreams: TestServer[] = [];

  beforeAll(async () => {
    t = await startApp();
    for (let i = 0; i < 3; i++) upstreams.push(await listen(echo));
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('imports the seed, exports a file HAProxy accepts, and importing that file changes nothing', async () => {
    const port = await freePort();
    const seed = SEED.replace('*:9999', `127.0.0.1:${port}`)
      .replace('127.0.0.1:9315', `127.0.0.1:${upstreams[0].port}`)
      .replace('127.0.0.1:9316', `127.0.0.1:${upstreams[1].port}`)
      .replace('127.0.0.1:9317', `127.0.0.1:${upstreams[2].port}`);
    const imported = await t.request
      .post('/api/v1/import/haproxy')
      .set('content-type', 'text/plain')
      .send(seed);
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body.changed).toBe(true);
    const config = (await t.request.get('/api/v1/config').expect(200)).body;

    const exported = await t.request.get('/api/v1/export/haproxy.cfg').expect(200);
    const check = haproxyCheck(exported.text);
    expect(check.status, check.output).toBe(0);

    const again = await t.request
      .post('/api/v1/import/haproxy')
      .set('content-type', 'text/plain')
      .send(exported.text);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ revision: imported.body.revision, changed: false });
    expect((await t.request.get('/api/v1/config').expect(200)).body).toEqual(config);
  });
});
