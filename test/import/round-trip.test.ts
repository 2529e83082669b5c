// Issue 9, point 2: import → export → `haproxy -c` → import again gives the same config. The seed file goes in
// (ports rewritten), comes out as a file Debian's HAProxy accepts, and that file imported back changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { postImport, SEED, seedOn } from './import-helpers.js';
import { connect, echo, freePort, listen, readBytes, type TestServer } from '../helpers/net.js';
import { haproxyCheck } from '../haproxy/haproxy-check.js';
import { haproxyMissing } from '../stats/haproxy.js';

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
    const seed = seedOn(
      port,
      upstreams.map((u) => u.port),
      '127.0.0.1',
    );
    const imported = await postImport(t, seed);
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body.changed).toBe(true);
    const config = (await t.request.get('/api/v1/config').expect(200)).body;

    const exported = await t.request.get('/api/v1/export/haproxy.cfg').expect(200);
    const check = haproxyCheck(exported.text);
    expect(check.status, check.output).toBe(0);

    const again = await postImport(t, exported.text);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ revision: imported.body.revision, changed: false });
    expect((await t.request.get('/api/v1/config').expect(200)).body).toEqual(config);
  });

  it('carries tcp-check sequences, check ports, fastinter and downinter, and option redis-check, both ways', async () => {
    const [p, q] = [await freePort(), await freePort()];
    const [a, b] = [upstreams[0].port, upstreams[1].port];
    const file =
      SEED.slice(0, SEED.indexOf('frontend ')) +
      `frontend redis\n    bind 127.0.0.1:${p}\n    default_backend redis\n` +
      `frontend cache\n    bind 127.0.0.1:${q}\n    default_backend cache\n` +
      'backend redis\n    option tcp-check\n    tcp-check connect\n    tcp-check send PING\\r\\n\n' +
      '    tcp-check expect string +PONG\n    tcp-check send "info replication\\r\\n"\n' +
      '    tcp-check expect string role:master\n    tcp-check send-binary 51554954\n    tcp-check expect binary 2b4f4b\n' +
      `    default-server inter 2s fastinter 250ms downinter 10s\n` +
      `    server r1 127.0.0.1:${a} check port ${b}\n    server r2 127.0.0.1:${b} check\n` +
      `backend cache\n    option redis-check\n    server c1 127.0.0.1:${a} check inter 3s\n`;
    const imported = await postImport(t, file, { strict: 'true' });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    const config = (await t.request.get('/api/v1/config').expect(200)).body;
    expect(config.backends).toMatchObject([
      {
        name: 'redis',
        check: {
          inter: 2000,
          fastinter: 250,
          downinter: 10000,
          steps: [
            { send: 'PING\r\n' },
            { expect: { string: '+PONG' } },
            { send: 'info replication\r\n' },
            { expect: { string: 'role:master' } },
            { sendBinary: '51554954' },
            { expect: { binary: '2b4f4b' } },
          ],
        },
        servers: [{ name: 'r1', checkPort: b }, { name: 'r2' }],
      },
      {
        name: 'cache',
        check: { steps: [{ send: '*1\r\n$4\r\nPING\r\n' }, { expect: { string: '+PONG\r\n' } }] },
      },
    ]);
    expect(config.backends[0].servers[1].checkPort).toBeUndefined();
    const warnings = (imported.body.warnings as Array<{ text: string }>).filter((w) =>
      /^(tcp-check|option (tcp|redis)-check|server|default-server)/.test(w.text),
    );
    expect(warnings).toEqual([]);

    const exported = await t.request.get('/api/v1/export/haproxy.cfg').expect(200);
    expect(exported.text).toContain('    tcp-check send info\\ replication\\r\\n\n');
    expect(exported.text).toMatch(
      new RegExp(`server r1 127\\.0\\.0\\.1:${a} .*fastinter 250ms downinter 10000ms port ${b}`),
    );
    const check = haproxyCheck(exported.text);
    expect(check.status, check.output).toBe(0);
    const again = await postImport(t, exported.text);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ revision: imported.body.revision, changed: false });
  });

  it('imports a frontend of several bind lines serving on all, exports one bind line each, and back', async () => {
    const [p, q] = [await freePort(), await freePort()];
    // The seed's global and defaults (as in the test above), then a frontend of several binds.
    const file =
      SEED.slice(0, SEED.indexOf('frontend ')) +
      `frontend multi\n    mode tcp\n    bind 127.0.0.2:${p},127.0.0.3:${p}\n    bind 127.0.0.1:${q}\n` +
      `    default_backend b\nbackend b\n    mode tcp\n    server s 127.0.0.1:${upstreams[0].port}\n`;
    const imported = await postImport(t, file, { strict: 'true' });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    const binds = [
      { address: '127.0.0.2', port: p },
      { address: '127.0.0.3', port: p },
      { address: '127.0.0.1', port: q },
    ];
    const config = (await t.request.get('/api/v1/config').expect(200)).body;
    expect(config.frontends).toMatchObject([{ name: 'multi', bind: binds[0], binds }]);
    for (const b of binds) {
      const client = await connect(b.port, { host: b.address });
      client.write('hi');
      expect((await readBytes(client, 2)).toString()).toBe('hi');
      client.destroy();
    }

    const exported = await t.request.get('/api/v1/export/haproxy.cfg').expect(200);
    const bindLines = exported.text.split('\n').filter((l) => l.trim().startsWith('bind '));
    expect(bindLines.map((l) => l.trim())).toEqual(binds.map((b) => `bind ${b.address}:${b.port}`));
    const check = haproxyCheck(exported.text);
    expect(check.status, check.output).toBe(0);
    const again = await postImport(t, exported.text);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ revision: imported.body.revision, changed: false });
  });
});
