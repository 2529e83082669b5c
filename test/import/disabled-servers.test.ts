// Issue 9: a server the file writes `disabled` (on its line or from `default-server`) is kept out as HAProxy keeps
// it out: the import leaves it in maint (Tether's admin state, stored with admin states) in the same commit as the
// revision (also when the config itself is unchanged). A dry run says so and changes nothing; an import whose apply
// fails sets no maint either. A real HAProxy
// 2.6 on the same file shows it MAINT too; the head's export writes it `disabled` again.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../socket/cli.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { connect, freePort, listen, readBytes, type TestServer } from '../helpers/net.js';
import { haproxyMissing, startHaproxy } from '../stats/haproxy.js';
import { postImport } from './import-helpers.js';

const missing = haproxyMissing();
if (missing) console.warn(`HAProxy side of the disabled-server import test skipped: ${missing}`);

/** `status` of each server row of a `show stat` answer, keyed "pxname/svname". */
function statusOf(csv: string): Map<string, string> {
  const [header = '', ...lines] = csv.split('\n').filter((l) => l !== '');
  const status = header.replace(/^# /, '').split(',').indexOf('status');
  return new Map(lines.map((l) => l.split(',')).map((f) => [`${f[0]}/${f[1]}`, f[status]!]));
}

/** One command on a stats socket (Tether's runtime socket), its whole answer. */
const command = (path: string, line: string): Promise<string> => send(path, `${line}\n`);

/** An upstream that answers each connection with its name, counting them. */
async function named(name: string): Promise<TestServer & { hits: () => number }> {
  let hits = 0;
  const server = await listen((socket: Socket) => {
    hits++;
    socket.on('error', () => {});
    socket.write(name);
  });
  return Object.assign(server, { hits: () => hits });
}

describe('import of `disabled` servers', () => {
  let t: StartedApp;
  let dir: string;
  let up: Awaited<ReturnType<typeof named>>[];
  let port: number;
  const socket = (line: string) => command(join(dir, 'tether.sock'), line);

  /** be: s1 disabled on its line, s2 in service; other: disabled from default-server, `enabled` undoes it on y. */
  const file = (extra = '', disabled = true) =>
    [
      'defaults',
      '  mode tcp',
      '  timeout connect 1s',
      '  timeout client 1m',
      '  timeout server 1m',
      '  retries 1',
      '  option redispatch',
      'frontend fe',
      `  bind 127.0.0.1:${port}`,
      '  default_backend be',
      'backend be',
      `  server s1 127.0.0.1:${up[0].port}${disabled ? ' disabled' : ''}`,
      `  server s2 127.0.0.1:${up[1].port}`,
      'backend other',
      disabled ? '  default-server disabled' : '',
      `  server x 127.0.0.1:${up[0].port}`,
      `  server y 127.0.0.1:${up[1].port} enabled`,
      extra,
    ].join('\n');

  beforeAll(async () => {
    up = [await named('s1'), await named('s2')];
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'tether-disabled-'));
    t = await startApp({ env: { TETHER_SOCKET: join(dir, 'tether.sock') } });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(up.map((u) => u.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('dry run: says which servers will be in maint, and changes nothing', async () => {
    const res = await postImport(t, file(), { dryRun: 'true' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.adminStates).toEqual([
      {
        backend: 'be',
        server: 's1',
        state: 'maint',
        line: 12,
        message: 'be/s1 will be in maint: disabled in the file',
      },
      {
        backend: 'other',
        server: 'x',
        state: 'maint',
        line: 16,
        message: 'other/x will be in maint: disabled in the file',
      },
    ]);
    expect(res.body.warnings.filter((w: { message: string }) => /disabled|enabled/.test(w.message))).toEqual(
      [],
    );
    expect((await t.request.get('/api/v1/config').expect(200)).body.backends).toEqual([]);
  });

  it('an import whose apply fails (port taken) sets no maint', async () => {
    const taken = await listen(() => {}, '127.0.0.1');
    try {
      const text = file(`frontend blocked\n  bind 127.0.0.1:${taken.port}\n  default_backend other\n`);
      const res = await postImport(t, text);
      expect(res.status, JSON.stringify(res.body)).toBe(409);
    } finally {
      await taken.close();
    }
    expect((await t.request.get('/api/v1/config').expect(200)).body.backends).toEqual([]);
    // Had the failed import stored maint for be/s1 or other/x, they would come into this config in maint.
    const plain = await postImport(t, file('', false));
    expect(plain.status, JSON.stringify(plain.body)).toBe(200);
    expect(plain.body).toMatchObject({ changed: true, adminStates: [] });
    const rows = statusOf(await socket('show stat'));
    expect([rows.get('be/s1'), rows.get('other/x')]).toEqual(['no check', 'no check']);
  });

  it('applied: the disabled servers are MAINT in /stats and the socket, and take no connection', async () => {
    // The same config as the plain file: no new revision, but the import still puts them in maint.
    const res = await postImport(t, file());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.changed).toBe(false);
    expect(res.body.adminStates.map((s: { server: string }) => s.server)).toEqual(['s1', 'x']);

    const stats = (await t.request.get('/api/v1/stats').expect(200)).body as {
      backends: { name: string; servers: { name: string; status: string; adminState: string }[] }[];
    };
    expect(stats.backends.map((b) => b.servers.map((s) => `${b.name}/${s.name} ${s.status}`))).toEqual([
      ['be/s1 MAINT', 'be/s2 no check'],
      ['other/x MAINT', 'other/y no check'],
    ]);
    const rows = statusOf(await socket('show stat'));
    expect([rows.get('be/s1'), rows.get('be/s2'), rows.get('other/x'), rows.get('other/y')]).toEqual([
      'MAINT',
      'no check',
      'MAINT',
      'no check',
    ]);
    // show servers state: srv_admin_state (7th column) has HAProxy's forced-maintenance bit for s1 only.
    const state = (await socket('show servers state be')).split('\n').filter((l) => /^\d/.test(l));
    const admin = new Map(state.map((l) => l.split(' ')).map((f) => [f[3], Number(f[6]) & 1]));
    expect([admin.get('s1'), admin.get('s2')]).toEqual([1, 0]);

    // The stored admin state: the server's own route says maint.
    const s1 = await t.request.get('/api/v1/backends/be/servers/s1').expect(200);
    expect(JSON.stringify(s1.body)).toContain('maint');

    for (let i = 0; i < 6; i++) {
      const client = await connect(port);
      expect((await readBytes(client, 2)).toString()).toBe('s2');
      client.destroy();
    }
    expect(up[0].hits()).toBe(0);

    // The head's export writes them `disabled`: it imports back to the same config, with them in maint again.
    const exported = (await t.request.get('/api/v1/export/haproxy.cfg').expect(200)).text;
    expect(exported).toMatch(new RegExp(`server s1 127\\.0\\.0\\.1:${up[0].port} .*disabled$`, 'm'));
    expect(exported).not.toMatch(new RegExp(`server s2 .*disabled`, 'm'));
    const again = await postImport(t, exported, { dryRun: 'true' });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.changed, JSON.stringify(again.body.changes)).toBe(false);
    expect(
      again.body.adminStates.map((s: { backend: string; server: string }) => `${s.backend}/${s.server}`),
    ).toEqual(['be/s1', 'other/x']);
  });

  it.skipIf(missing !== undefined)('a real HAProxy 2.6 on the same file keeps them MAINT too', async () => {
    port = await freePort();
    const haproxy = await startHaproxy(file());
    try {
      const rows = statusOf(await haproxy.command('show stat'));
      expect([rows.get('be/s1'), rows.get('be/s2'), rows.get('other/x'), rows.get('other/y')]).toEqual([
        'MAINT',
        'no check',
        'MAINT',
        'no check',
      ]);
    } finally {
      await haproxy.stop();
    }
  });
});
