// Issue 9, measured against Debian's HAProxy 2.6.12: `set server … state maint` counts one DOWN transition (chkdown)
// of a server that was not already DOWN, and a backend with no server at all shows UP. The same config and the
// same socket commands go to a real HAProxy and to Tether's runtime socket; their `show stat` rows must agree.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../socket/cli.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { backend, freePort, server, snapshot, waitFor } from '../helpers/net.js';
import { haproxyMissing, startHaproxy, type Haproxy } from './haproxy.js';

const missing = haproxyMissing();
if (missing) console.warn(`HAProxy side of the maint chkdown test skipped: ${missing}`);

/** `status` and `chkdown` of every server and backend row of a `show stat` answer, keyed "pxname/svname". */
function rowsOf(csv: string): Map<string, string> {
  const [header = '', ...lines] = csv.split('\n').filter((l) => l !== '');
  const columns = header.replace(/^# /, '').split(',');
  const [status, chkdown] = [columns.indexOf('status'), columns.indexOf('chkdown')];
  const rows = new Map<string, string>();
  for (const line of lines) {
    const f = line.split(',');
    if (f[1] !== 'FRONTEND') rows.set(`${f[0]}/${f[1]}`, `${f[status]} ${f[chkdown]}`);
  }
  return rows;
}

/** One command on a stats socket (Tether's runtime socket), its whole answer. */
const command = (path: string, line: string): Promise<string> => send(path, `${line}\n`);

const KEYS = ['be/up', 'be/dead', 'be/BACKEND', 'empty/BACKEND'];

describe('maint and chkdown, an empty backend: Tether and HAProxy 2.6 side by side', () => {
  let t: StartedApp;
  let haproxy: Haproxy | undefined;
  let upstream: net.Server;
  let dir: string;
  const tether = (line: string) => command(join(dir, 'tether.sock'), line);
  const sides = () => [tether, ...(haproxy ? [haproxy.command] : [])];
  const rows = async (send: (line: string) => Promise<string>) => {
    const all = rowsOf(await send('show stat'));
    return KEYS.map((k) => `${k} ${all.get(k)}`);
  };

  beforeAll(async () => {
    upstream = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
    const live = (upstream.address() as net.AddressInfo).port;
    const dead = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'tether-maint-'));
    t = await startApp({ env: { TETHER_SOCKET: join(dir, 'tether.sock') } });
    const check = { type: 'tcp' as const, inter: 100, fall: 1, rise: 1 };
    const config = snapshot(
      [],
      [
        backend('be', [server('up', live, { check: true }), server('dead', dead, { check: true })], {
          check,
        }),
        backend('empty', []),
      ],
    );
    const res = await t.request.put('/api/v1/config').send(config);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (!missing) {
      haproxy = await startHaproxy(
        [
          'defaults',
          '  mode tcp',
          '  timeout connect 1s',
          '  timeout client 1h',
          '  timeout server 1h',
          'backend be',
          `  server up 127.0.0.1:${live} check inter 100 fall 1 rise 1`,
          `  server dead 127.0.0.1:${dead} check inter 100 fall 1 rise 1`,
          'backend empty',
          '',
        ].join('\n'),
      );
    }
    for (const send of sides()) {
      await waitFor(async () => (await rows(send))[1] === 'be/dead DOWN 1', 10_000, 'dead server DOWN');
    }
  }, 30_000);

  afterAll(async () => {
    await haproxy?.stop();
    await t?.close();
    await new Promise((resolve) => upstream?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a backend without servers UP, and counts maint of an UP server as one DOWN, of a DOWN one as none', async () => {
    const expected = ['be/up UP 0', 'be/dead DOWN 1', 'be/BACKEND UP 0', 'empty/BACKEND UP 0'];
    for (const send of sides()) expect(await rows(send)).toEqual(expected);

    for (const send of sides()) {
      expect(await send('set server be/up state maint')).toBe('\n');
      expect(await send('set server be/dead state maint')).toBe('\n');
    }
    const inMaint = ['be/up MAINT 1', 'be/dead MAINT 1', 'be/BACKEND DOWN 1', 'empty/BACKEND UP 0'];
    for (const send of sides()) expect(await rows(send)).toEqual(inMaint);

    // Maint again (already in maint) counts nothing more; back to ready, the live server is UP with its one DOWN.
    for (const send of sides()) {
      expect(await send('set server be/up state maint')).toBe('\n');
      expect(await send('set server be/up state ready')).toBe('\n');
    }
    for (const send of sides()) {
      await waitFor(async () => (await rows(send))[0] === 'be/up UP 1', 10_000, 'up server back UP');
      expect(await rows(send)).toEqual([
        'be/up UP 1',
        'be/dead MAINT 1',
        'be/BACKEND UP 1',
        'empty/BACKEND UP 0',
      ]);
    }

    const stats = (await t.request.get('/api/v1/stats').expect(200)).body as {
      backends: { name: string; status: string; servers: { name: string; chkdown: number }[] }[];
    };
    expect(stats.backends.map((b) => [b.name, b.status, b.servers.map((s) => s.chkdown)])).toEqual([
      ['be', 'UP', [1, 1]],
      ['empty', 'UP', []],
    ]);
  });
});
