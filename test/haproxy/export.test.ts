// haproxy.cfg export (issue 9, point 2), against Debian's HAProxy 2.6: a config using every field and every
// enum value gives a file `haproxy -c` accepts and whose directives say the same; a real HAProxy started on a
// revision's export serves the same servers Tether served for it; headers, 404 and 400 of the routes.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BALANCE_ALGORITHMS,
  CHECK_TYPES,
  CMPP_CHECK_BUILT,
  HASH_TYPES,
  ON_MARKED_DOWN,
  SEND_PROXY,
} from '../../src/schema/fields.js';
import type { Backend, Snapshot } from '../../src/schema/snapshot.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import {
  backend,
  connect,
  freePort,
  frontend,
  listen,
  named,
  server,
  snapshot,
  type TestServer,
} from '../helpers/net.js';
import { expectError, headRevision } from '../control-plane/fixtures.js';
import { exportHaproxy } from '../../src/haproxy/export.js';
import { RetentionService } from '../../src/retention/retention.service.js';
import { LIMITS } from '../../src/schema/fields.js';
import { haproxyMissing, startHaproxy, type Haproxy } from '../stats/haproxy.js';
import { haproxyCheck } from './haproxy-check.js';

const missing = haproxyMissing();
if (missing) console.warn(`skipping the haproxy -c and live HAProxy export checks: ${missing}`);

/** The directive lines of one section (`backend b`), comments left out. */
function section(text: string, head: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(head);
  expect(start, `section "${head}" in\n${text}`).toBeGreaterThanOrEqual(0);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith(' ')) break;
    if (!line.trimStart().startsWith('#')) body.push(line.trim());
  }
  return body;
}

/** The comment lines of a section (section() leaves them out). */
function commentsOf(text: string, head: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (const line of lines.slice(lines.indexOf(head) + 1)) {
    if (!line.startsWith(' ')) break;
    if (line.trimStart().startsWith('#')) out.push(line.trim());
  }
  return out;
}

/** The word after `key` on the first line of `lines` that has it. */
function wordAfter(lines: string[], key: string): string | undefined {
  for (const line of lines) {
    const words = line.split(' ');
    const at = words.indexOf(key);
    if (at >= 0) return words[at + 1];
  }
  return undefined;
}

const ms = (n: number) => `${n}ms`;

/** Every field of the model, and every enum value the control plane accepts, in one config. */
function everyField(ports: number[]): Snapshot {
  const built = <T extends string>(values: readonly T[]) =>
    values.filter((v) => CMPP_CHECK_BUILT || !v.includes('cmpp') || v === 'cmpp-account');
  const backends: Backend[] = [];
  let n = 0;
  for (const balance of BALANCE_ALGORITHMS) {
    for (const hashType of HASH_TYPES) {
      const i = n++;
      const checkType = built(CHECK_TYPES)[i % built(CHECK_TYPES).length];
      backends.push(
        backend(
          `b-${balance}.${hashType}`,
          [
            server('s_ip', 1000 + i, { weight: 256, maxconn: 7, check: true }),
            server('s6', 2000 + i, { address: '::1', weight: 0, backup: true }),
            server('s-host', 3000 + i, { address: 'localhost', check: true }),
          ],
          {
            balance,
            hashType,
            check: {
              type: checkType,
              inter: 250 + i,
              fall: 1 + i,
              rise: 2 + i,
              timeout: i % 2 ? 900 : undefined,
              ...(checkType === 'cmpp' && { cmpp: { sourceAddr: '900001', secret: 's', version: '3.0' } }),
            },
            sendProxy: SEND_PROXY[i % SEND_PROXY.length],
            onMarkedDown: ON_MARKED_DOWN[i % ON_MARKED_DOWN.length],
          },
        ),
      );
    }
  }
  return snapshot(
    [
      frontend('f1', ports[0], backends[0].name, {
        maxconn: 12,
        allow: ['127.0.0.0/8', '::ffff:10.0.0.0/104'],
      }),
      frontend('F_2.x-y', ports[1], backends[1].name, { enabled: false }),
      frontend('six', ports[2], backends[2].name, {
        inspect: 'none',
        bind: { address: '::', port: ports[2] },
      }),
    ],
    backends,
    { maxconn: 4321, timeouts: { connect: 1234, client: 2_147_483_647, server: 86_400_000, check: 777 } },
  );
}

describe.skipIf(missing !== undefined)('haproxy -c on the edges of the model', () => {
  it('accepts every name Tether can hold, the longest allow-list and every bind form', () => {
    // Names of older configs (`.`, `..`), HAProxy's own words, our acl and resolvers names, the longest name;
    // servers at every address form Tether accepts (an IPv6 zone included).
    const names = ['.', '..', '-', '_', '1', 'GLOBAL', 'defaults', 'frontend', 'backend', 'listen'];
    names.push('tether_allow', 'tether_dns', 'x'.repeat(64), `A-z_0.9${'-'.repeat(57)}`);
    const allow = Array.from({ length: LIMITS.allowEntries }, (_, i) =>
      i % 2 ? `10.${i >> 8}.${i & 255}.0/24` : `2001:db8:${i.toString(16)}::/48`,
    );
    const binds = ['0.0.0.0', '::', '::1', '127.0.0.1', '::ffff:127.0.0.3'];
    const config = snapshot(
      names.map((name, i) =>
        frontend(name, 20000 + i, name, {
          allow: i === 0 ? allow : undefined,
          bind: { address: binds[i % binds.length], port: 20000 + i },
        }),
      ),
      // Each backend is named as a frontend, its server as itself.
      names.map((name, i) =>
        backend(name, [server(name, 1, { address: ['::1', 'fe80::1%lo', 'localhost', '10.1.2.3'][i % 4] })]),
      ),
    );
    const check = haproxyCheck(exportHaproxy(config, { revision: 1, exportedAt: new Date() }));
    expect(check.status, check.output).toBe(0);
    expect(check.output).not.toMatch(/WARNING|ALERT/);
  });
});

describe('GET /api/v1/export/haproxy.cfg', () => {
  let t: StartedApp;
  let config: Snapshot;
  let text: string;

  beforeAll(async () => {
    t = await startApp();
    config = everyField([await freePort(), await freePort(), await freePort()]);
    await t.request.put('/api/v1/config').send(config).expect(200);
    const res = await t.request.get('/api/v1/export/haproxy.cfg').expect(200);
    text = res.text;
  });
  afterAll(() => t?.close());

  it('answers a text/plain attachment named after the revision, to a viewer', async () => {
    const head = await headRevision(t);
    const viewer = await t.as('viewer');
    const res = await viewer.get('/api/v1/export/haproxy.cfg');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="tether-r${head}.cfg"`);
    expect(res.headers.etag).toBe(`"${head}"`);
    expect(res.text).toMatch(
      new RegExp(`^# haproxy.cfg exported by Tether from revision ${head} \\(stored `),
    );
  });

  it.skipIf(missing !== undefined)('gives a file HAProxy 2.6 accepts without a warning', () => {
    const check = haproxyCheck(text);
    expect(check.output).toContain('Configuration file is valid');
    expect(check.status, check.output).toBe(0);
    expect(check.output).not.toMatch(/WARNING|ALERT/);
  });

  it('imports back (dry run) with no warning about the lines Tether itself writes', async () => {
    // Issue 9: the export's resolvers section and resolvers/resolve-prefer/init-addr words, its `retries 1` and
    // `option redispatch` say what Tether does: this config loses nothing, so nothing is warned.
    const res = await t.request
      .post('/api/v1/import/haproxy')
      .query({ dryRun: 'true' })
      .set('content-type', 'text/plain')
      .send(text);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const warnings: string[] = res.body.warnings.map((w: { message: string }) => w.message);
    expect(warnings).toEqual([]);
  });

  it('carries defaults, frontends and every backend and server field', () => {
    expect(section(text, 'global')).toEqual(['maxconn 4321']);
    expect(commentsOf(text, 'defaults')).toContain(
      "# Tether's check timeout for backends without their own: 777ms (HAProxy times their checks by inter).",
    );
    expect(section(text, 'defaults')).toEqual([
      'mode tcp',
      'maxconn 4321',
      'timeout connect 1234ms',
      'timeout client 2147483647ms',
      'timeout server 86400000ms',
      // Half the backends have their own check timeout: the defaults one is a comment (it would be inherited).
      'retries 1',
      'option redispatch',
    ]);
    const [f1, f2, six] = config.frontends;
    expect(section(text, `frontend ${f1.name}`)).toEqual([
      `bind 127.0.0.1:${f1.bind.port}`,
      'maxconn 12',
      'acl tether_allow src 127.0.0.0/8 10.0.0.0/8',
      'tcp-request connection reject if !tether_allow',
      `default_backend ${f1.backend}`,
    ]);
    expect(section(text, `frontend ${f2.name}`)).toEqual([
      `bind 127.0.0.1:${f2.bind.port}`,
      'disabled',
      `default_backend ${f2.backend}`,
    ]);
    expect(section(text, `frontend ${six.name}`)).toContain(`bind [::]:${six.bind.port} v4v6`);

    for (const b of config.backends) {
      const lines = section(text, `backend ${b.name}`);
      const servers = lines.filter((l) => l.startsWith('server '));
      expect(servers).toHaveLength(3);
      const [ip, v6, host] = servers;
      const checked = b.check.type !== 'none';
      const check = checked
        ? ` check inter ${ms(b.check.inter)} fall ${b.check.fall} rise ${b.check.rise}`
        : '';
      const proxy = { none: '', v1: ' send-proxy', v2: ' send-proxy-v2' }[b.sendProxy];
      // terminate (the lossless CMPP close) is exported as its nearest, shutdown-sessions.
      const down = b.onMarkedDown !== 'keep' ? ' on-marked-down shutdown-sessions' : '';
      const [sIp, , sHost] = b.servers;
      expect(ip).toBe(`server s_ip 127.0.0.1:${sIp.port} weight 256 maxconn 7${check}${proxy}${down}`);
      expect(v6).toBe(`server s6 [::1]:${b.servers[1].port} weight 0 backup${proxy}${down}`);
      expect(host).toBe(
        `server s-host localhost:${sHost.port} resolvers tether_dns resolve-prefer ipv4 init-addr last,libc,none weight 1${check}${proxy}${down}`,
      );
      expect(lines.includes('option tcp-check')).toBe(checked);
      expect(lines.includes('timeout check 900ms')).toBe(checked && b.check.timeout === 900);
    }
    expect(section(text, 'resolvers tether_dns')).toContain('parse-resolv-conf');
  });

  it('says every enum value of the model as the HAProxy directive it is (cmpp-account as source)', () => {
    const seen = {
      balance: new Set(),
      hashType: new Set(),
      check: new Set(),
      sendProxy: new Set(),
      down: new Set(),
    };
    for (const b of config.backends) {
      const lines = section(text, `backend ${b.name}`);
      const ipServer = lines.find((l) => l.startsWith('server s_ip '))!.split(' ');
      // Read back from the file alone, as an import would.
      const balance = wordAfter(lines, 'balance');
      const hashType = wordAfter(lines, 'hash-type');
      const checkType = commentsOf(text, `backend ${b.name}`).some((l) => l.startsWith('# check cmpp'))
        ? 'cmpp'
        : lines.includes('option tcp-check')
          ? 'tcp'
          : 'none';
      const sendProxy = ipServer.includes('send-proxy')
        ? 'v1'
        : ipServer.includes('send-proxy-v2')
          ? 'v2'
          : 'none';
      const onMarkedDown = wordAfter([ipServer.join(' ')], 'on-marked-down') ?? 'keep';
      expect({ balance, hashType, checkType, sendProxy, onMarkedDown }).toEqual({
        balance: b.balance === 'cmpp-account' ? 'source' : b.balance,
        hashType: b.hashType,
        checkType: b.check.type,
        sendProxy: b.sendProxy,
        onMarkedDown: b.onMarkedDown === 'terminate' ? 'shutdown-sessions' : b.onMarkedDown,
      });
      if (b.onMarkedDown === 'terminate')
        expect(commentsOf(text, `backend ${b.name}`)).toContain(
          '# on-marked-down terminate (sessions closed the CMPP way, TERMINATE first) has no HAProxy equivalent:',
        );
      if (b.balance === 'cmpp-account') {
        expect(text).toContain('# balance cmpp-account (hash of the CMPP account) has no HAProxy equivalent');
      }
      seen.balance.add(b.balance);
      seen.hashType.add(b.hashType);
      seen.check.add(b.check.type);
      seen.sendProxy.add(b.sendProxy);
      seen.down.add(b.onMarkedDown);
    }
    // The config above really covers every value the control plane accepts.
    expect(seen.balance.size).toBe(BALANCE_ALGORITHMS.length);
    expect(seen.hashType.size).toBe(HASH_TYPES.length);
    expect(seen.check.size).toBe(CMPP_CHECK_BUILT ? CHECK_TYPES.length : CHECK_TYPES.length - 1);
    expect(seen.sendProxy.size).toBe(SEND_PROXY.length);
    expect(seen.down.size).toBe(ON_MARKED_DOWN.length);
  });

  it('exports any stored revision the same way, and answers 404 once it is unknown and 400 for a bad id', async () => {
    const head = await headRevision(t);
    const viewer = await t.as('viewer');
    const stored = await viewer.get(`/api/v1/revisions/${head}/haproxy.cfg`).expect(200);
    expect(stored.headers['content-disposition']).toBe(`attachment; filename="tether-r${head}.cfg"`);
    expect(stored.headers['content-type']).toBe('text/plain; charset=utf-8');
    const withoutTime = (s: string) => s.replace(/^# at .*$/m, '');
    expect(withoutTime(stored.text)).toBe(withoutTime(text));
    expectError(await viewer.get('/api/v1/revisions/999999/haproxy.cfg'), 404);
    expectError(await viewer.get('/api/v1/revisions/x1/haproxy.cfg'), 400, 'id');
    expect((await t.anonymous.get('/api/v1/export/haproxy.cfg')).status).toBe(401);
  });
});

/** One statement on the app's database file, as another process would (SQLite in WAL mode lets it). */
function writeDatabase(path: string, sql: string, ...params: unknown[]): void {
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => {
    prepare(sql: string): { run(...params: unknown[]): unknown };
    close(): void;
  };
  const sqlite = new Database(path);
  try {
    sqlite.prepare(sql).run(...params);
  } finally {
    sqlite.close();
  }
}

describe('the export of a revision holding a CMPP check', () => {
  let t: StartedApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('gives HAProxy a file it starts even with nothing to listen on (the empty config)', async () => {
    const empty = await t.request.get('/api/v1/export/haproxy.cfg').expect(200);
    expect(empty.headers['content-disposition']).toBe('attachment; filename="tether-r0.cfg"');
    expect(empty.text).toMatch(/^# haproxy.cfg exported by Tether from revision 0\n/);
    if (!missing) {
      const check = haproxyCheck(empty.text);
      expect(check.status, check.output).toBe(0);
    }
  });

  it('never writes its secret or account, and says the check became a TCP check', async () => {
    await t.request.post('/api/v1/backends').send({ name: 'ismg', servers: [] }).expect(201);
    const id = await headRevision(t);
    // The API refuses new CMPP checks until CMPP support is built; a revision stored before holds one.
    const stored = (await t.request.get(`/api/v1/revisions/${id}`).expect(200)).body.snapshot as Snapshot;
    stored.backends[0].check = {
      type: 'cmpp',
      inter: 5000,
      fall: 3,
      rise: 2,
      cmpp: { sourceAddr: '901234', secret: 'Cl3ar-Secret', version: '2.0' },
    };
    writeDatabase(t.dbPath, 'UPDATE revisions SET snapshot = ? WHERE id = ?', JSON.stringify(stored), id);
    const res = await t.request.get(`/api/v1/revisions/${id}/haproxy.cfg`).expect(200);
    expect(res.text).toContain('# check cmpp (a CMPP 2.0 login) has no HAProxy equivalent');
    expect(res.text).toContain('\nbackend ismg\n');
    expect(res.text).not.toContain('Cl3ar-Secret');
    expect(res.text).not.toContain('901234');
    if (!missing) {
      const check = haproxyCheck(res.text);
      expect(check.status, `${check.output}\n${res.text}`).toBe(0);
    }
  });
});

describe('the export of a pruned revision', () => {
  let t: StartedApp;
  beforeAll(async () => {
    t = await startApp({ env: { TETHER_REVISIONS_KEPT: '1' } });
  });
  afterAll(() => t?.close());

  it('answers 404 once retention pruned it, as the revision itself, and keeps exporting the head', async () => {
    await t.request.post('/api/v1/backends').send({ name: 'old', servers: [] }).expect(201);
    await t.request.post('/api/v1/backends').send({ name: 'new', servers: [] }).expect(201);
    const head = await headRevision(t);
    await t.request.get(`/api/v1/revisions/${head - 1}/haproxy.cfg`).expect(200);
    // Age every revision past the retention, as the retention tests do, then prune as the timer would.
    writeDatabase(t.dbPath, "UPDATE revisions SET createdAt = datetime('now', '-200 days')");
    expect((await t.app.get(RetentionService).prune()).revisions).toBe(head - 1);
    expectError(await t.request.get(`/api/v1/revisions/${head - 1}/haproxy.cfg`), 404);
    expectError(await t.request.get(`/api/v1/revisions/${head - 1}`), 404);
    const current = await t.request.get('/api/v1/export/haproxy.cfg').expect(200);
    expect(current.text).toContain(`from revision ${head} (stored `);
    expect(current.text).toContain('\nbackend new\n');
  });
});

describe.skipIf(missing !== undefined)('a real HAProxy started on an export', () => {
  let t: StartedApp;
  let haproxy: Haproxy | undefined;
  const upstreams: TestServer[] = [];
  const ports = { open: 0, allowOnly2: 0, disabled: 0 };

  beforeAll(async () => {
    t = await startApp();
    for (const name of ['s1', 's2', 'spare', 'zero']) upstreams.push(await listen(named(name)));
    const [s1, s2, spare, zero] = upstreams.map((u) => u.port);
    ports.open = await freePort();
    ports.allowOnly2 = await freePort();
    ports.disabled = await freePort();
    const be = backend('gw', [
      server('s1', s1),
      server('s2', s2, { address: 'localhost', weight: 2 }),
      server('spare', spare, { backup: true }),
      server('zero', zero, { weight: 0 }),
    ]);
    await t.request
      .put('/api/v1/config')
      .send(
        snapshot(
          [
            frontend('open', ports.open, 'gw'),
            frontend('only-127.0.0.2', ports.allowOnly2, 'gw', { allow: ['127.0.0.2/32'] }),
            frontend('off', ports.disabled, 'gw', { enabled: false }),
          ],
          [be],
          // Few enough descriptors for HAProxy to start as a plain user (2 per connection).
          { maxconn: 1000 },
        ),
      )
      .expect(200);
  });
  afterAll(async () => {
    await haproxy?.stop();
    await t?.close();
    for (const u of upstreams) await u.close();
  });

  /** Who answers: the upstream's name, or `closed` / `refused` when no upstream does. */
  async function answer(port: number, localAddress?: string): Promise<string> {
    let socket: Socket;
    try {
      socket = await connect(port, { localAddress });
    } catch (error) {
      // Nothing listens: refused. A reject (allow-list) may reset the connection before it is seen open.
      return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'refused' : 'closed';
    }
    return new Promise<string>((resolve) => {
      let text = '';
      const done = (result: string) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(result);
      };
      const timer = setTimeout(() => done(`no answer (got "${text}")`), 3000);
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('\n')) done(text.slice(0, text.indexOf('\n')));
      });
      // Half-open sockets: the far end's FIN is `end`, not `close`.
      socket.once('end', () => done('closed'));
      socket.once('close', () => done('closed'));
    });
  }

  /** What clients meet on each frontend: the set of servers that answered 8 connections, per case. */
  async function probe(): Promise<Record<string, string[]>> {
    const seen = async (port: number, localAddress?: string) => {
      const names = new Set<string>();
      for (let i = 0; i < 8; i++) names.add(await answer(port, localAddress));
      return [...names].sort();
    };
    return {
      open: await seen(ports.open),
      'allow-list, from 127.0.0.1': await seen(ports.allowOnly2),
      'allow-list, from 127.0.0.2': await seen(ports.allowOnly2, '127.0.0.2'),
      disabled: await seen(ports.disabled),
    };
  }

  it('serves the same servers as Tether did for that revision', async () => {
    const revision = await headRevision(t);
    const tether = await probe();
    expect(tether).toEqual({
      open: ['s1', 's2'],
      'allow-list, from 127.0.0.1': ['closed'],
      'allow-list, from 127.0.0.2': ['s1', 's2'],
      disabled: ['refused'],
    });
    // Free the ports for HAProxy: the next revision has no frontends; the export is the stored one's.
    await t.request.put('/api/v1/config').send(snapshot([], [])).expect(200);
    const cfg = (await t.request.get(`/api/v1/revisions/${revision}/haproxy.cfg`).expect(200)).text;
    haproxy = await startHaproxy(cfg);
    expect(await probe()).toEqual(tether);
  });

  it('lists the same servers in HAProxy as in the export (show servers state)', async () => {
    expect(haproxy).toBeDefined();
    const state = await haproxy!.command('show servers state gw');
    const rows = state
      .split('\n')
      .filter((l) => /^\d+ gw /.test(l))
      .map((l) => l.split(' '));
    // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight ... srv_fqdn srv_port
    const [s1, s2, spare, zero] = upstreams.map((u) => String(u.port));
    expect(
      rows.map((r) => ({ name: r[3], host: r[17] === '-' ? r[4] : r[17], port: r[18], weight: r[7] })),
    ).toEqual([
      { name: 's1', host: '127.0.0.1', port: s1, weight: '1' },
      { name: 's2', host: 'localhost', port: s2, weight: '2' },
      { name: 'spare', host: '127.0.0.1', port: spare, weight: '1' },
      { name: 'zero', host: '127.0.0.1', port: zero, weight: '0' },
    ]);
    expect(await haproxy!.command('show info')).toContain('Maxconn: 1000');
  });
});
