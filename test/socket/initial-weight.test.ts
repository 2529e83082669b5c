// Found verifying issue 9: HAProxy's `set weight be/s 0%` … `set weight be/s 100%` (the usual way a script takes a
// server out and puts it back) left the server at weight 0 in Tether for good, because `n%` and "(initial n)" took
// the config's current weight, which the socket's own change had just made 0. The initial weight is now the one
// before the socket's first change, as in HAProxy, until the weight is changed by other means.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort } from '../helpers/net.js';
import { haproxyMissing, startHaproxy, type Haproxy } from '../stats/haproxy.js';
import { configure } from '../stats/setup.js';
import { echoServer, type EchoServer } from '../stats/tcp.js';
import { send, socatMissing } from './cli.js';

const SCRIPT = [
  'get weight be/s1',
  'set weight be/s1 0%',
  'get weight be/s1',
  'set weight be/s1 100%',
  'get weight be/s1',
  'set server be/s1 weight 50%',
  'get weight be/s1',
  'set weight be/s1 50%',
  'get weight be/s1',
  'set weight be/s1 7',
  'set weight be/s1 200%',
  'get weight be/s1',
  'set weight be/s1 100%',
  'get weight be/s1',
];

describe('initial weights on the runtime socket', () => {
  let started: StartedApp;
  let dir: string;
  let ours: string;
  const upstreams: EchoServer[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-weight-'));
    ours = join(dir, 'tether.sock');
    for (let i = 0; i < 2; i++) upstreams.push(await echoServer());
    started = await startApp({ env: { TETHER_SOCKET: ours } });
    await configure(started, {
      frontend: 'fe',
      backend: 'be',
      port: await freePort(),
      servers: [
        { name: 's1', port: upstreams[0].port, weight: 4, check: false },
        { name: 's2', port: upstreams[1].port, check: false },
      ],
    });
  });

  afterAll(async () => {
    await started?.close();
    for (const u of upstreams) await u.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ask = async (command: string) => send(ours, `${command}\n`);
  const serverWeight = async () =>
    (await started.request.get('/api/v1/backends/be').expect(200)).body.servers[0].weight as number;

  it('0% then 100% puts the weight back; a change by other means is the new initial', async () => {
    expect(await ask('set weight be/s1 0%')).toBe('\n');
    expect(await ask('get weight be/s1')).toBe('0 (initial 4)\n\n');
    expect(await serverWeight()).toBe(0);
    expect(await ask('set weight be/s1 100%')).toBe('\n');
    expect(await ask('get weight be/s1')).toBe('4 (initial 4)\n\n');
    expect(await serverWeight()).toBe(4);
    // The REST API changes it: that is the config's weight now, and the initial one.
    const head = (await started.request.get('/api/v1/config').expect(200)).body.revision;
    await started.request
      .patch('/api/v1/backends/be/servers/s1')
      .set('If-Match', `"${head}"`)
      .send({ weight: 10 })
      .expect(200);
    expect(await ask('get weight be/s1')).toBe('10 (initial 10)\n\n');
    expect(await ask('set weight be/s1 50%')).toBe('\n');
    expect(await ask('get weight be/s1')).toBe('5 (initial 10)\n\n');
    expect(await ask('set weight be/s1 100%;get weight be/s1')).toBe('\n10 (initial 10)\n\n');
  });

  const missing = haproxyMissing() ?? socatMissing();
  it.skipIf(missing !== undefined)(
    'answers a weight script as HAProxy 2.6 does, digit for digit',
    async () => {
      const haproxy: Haproxy = await startHaproxy(
        [
          'defaults',
          '  mode tcp',
          '  timeout connect 5s',
          '  timeout client 1h',
          '  timeout server 1h',
          'backend be',
          `  server s1 127.0.0.1:${upstreams[0].port} weight 10`,
          `  server s2 127.0.0.1:${upstreams[1].port}`,
          '',
        ].join('\n'),
      );
      try {
        for (const command of SCRIPT) {
          expect(await ask(command), command).toBe(await send(haproxy.socketPath, `${command}\n`));
        }
      } finally {
        await haproxy.stop();
      }
    },
  );
});
