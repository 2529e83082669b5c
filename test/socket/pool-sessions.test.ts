// Found verifying issue 9 on the appliance as `npm start` runs it (worker processes, TETHER_WORKERS=auto):
// `show sess` listed worker sessions as `w7:1:` instead of HAProxy's `0x…` pointers, and `show sess <id>` /
// `shutdown session <id>` refused them. A script copies the pointer from `show sess`; with workers it must name
// the session again, as in one process and in HAProxy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import {
  closed,
  connect,
  echo,
  freePort,
  listen,
  readBytes,
  waitFor,
  type TestServer,
} from '../helpers/net.js';
import { socat, socatMissing } from './cli.js';

const missing = socatMissing();
if (missing) console.warn(`skipping show sess with worker processes: ${missing}`);

describe.skipIf(missing)('show sess / shutdown session with worker processes', () => {
  let dir: string;
  let path: string;
  let t: StartedApp;
  let upstream: TestServer;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-sess-workers-'));
    path = join(dir, 'tether.sock');
    upstream = await listen(echo);
    t = await startApp({ env: { TETHER_WORKERS: '2', TETHER_SOCKET: path } });
    await waitFor(
      async () =>
        (await t.request.get('/api/v1/stats')).body.workers?.every(
          (w: { state: string }) => w.state === 'running',
        ),
      20_000,
      'workers',
    );
    port = await freePort();
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('b', [serverBody('s', upstream.port)]))
      .expect(201);
    await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe', port, 'b'))
      .expect(201);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await upstream?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists 0x… pointers that show sess <ptr> details and shutdown session <ptr> closes', async () => {
    const client = await connect(port);
    client.write('ping');
    expect((await readBytes(client, 4)).toString()).toBe('ping');
    const list = await socat(path, 'show sess\n');
    const line = list.split('\n').find((l) => l.includes(' fe=fe '));
    expect(line, list).toMatch(/^0x[0-9a-f]+: proto=tcpv4 src=127\.0\.0\.1:\d+ fe=fe be=b srv=s /);
    const pointer = line!.split(':')[0]!;

    const detail = await socat(path, `show sess ${pointer}\n`);
    expect(detail).toMatch(new RegExp(`^${pointer}: \\[[^\\]]+\\] id=\\S+ proto=tcpv4`));
    expect(detail.split('\n').filter((l) => l.startsWith('0x'))).toHaveLength(1);

    expect(await socat(path, `shutdown session ${pointer}\n`)).toBe('\n');
    await closed(client);
    expect(await socat(path, `shutdown session ${pointer}\n`)).toBe("No such session (use 'show sess').\n\n");
  });
});
