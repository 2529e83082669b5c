// The runtime socket with worker processes: answers come over IPC, later than the `echo … | socat` client's
// end of input; every command must still be answered before the close (as in-process and as HAProxy do).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort, listen, named, waitFor, type TestServer } from '../helpers/net.js';
import { socat, socatMissing } from '../socket/cli.js';

const missing = socatMissing();
if (missing) console.warn(`skipping the runtime socket with workers: ${missing}`);

describe.skipIf(missing)('the runtime socket with worker processes', () => {
  let dir: string;
  let path: string;
  let t: StartedApp;
  let upstream: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-sock-workers-'));
    path = join(dir, 'tether.sock');
    upstream = await listen(named('up'));
    t = await startApp({ env: { TETHER_WORKERS: '2', TETHER_SOCKET: path } });
    await waitFor(
      async () =>
        (await t.request.get('/api/v1/stats')).body.workers?.every(
          (w: { state: string }) => w.state === 'running',
        ),
      20_000,
      'workers',
    );
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('b', [serverBody('s', upstream.port)]))
      .expect(201);
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe', await freePort(), 'b'))
      .expect(201);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every command of `echo … | socat`, again and again', async () => {
    const commands: Array<[string, RegExp]> = [
      ['show info', /^Name: /m],
      ['show stat', /^# pxname,svname,/],
      ['show servers state', /# be_id /],
      ['show backend', /^# name\nb$/m],
    ];
    for (let round = 0; round < 5; round++) {
      for (const [command, shape] of commands) {
        const answer = await socat(path, `${command}\n`);
        expect(answer, `${command} (round ${round})`).toMatch(shape);
      }
    }
  });
});
