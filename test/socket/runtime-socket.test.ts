// The HAProxy-compatible runtime socket of the real app (issue 9, point 3): every command through the real
// `socat` or a Unix-socket client, state changes through the same services as the REST API (a weight is a
// revision, an admin state isn't), audited as `socket`; the socket file mode 600, replaced when stale,
// removed at shutdown; bounded against abuse.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT_HIGH_WATER } from '../../src/socket/cli-server.js';
import { RuntimeSocketService } from '../../src/socket/runtime-socket.service.js';
import { HAPROXY_26_HEADER } from '../../src/stats/haproxy-columns.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort, holdPort, waitFor } from '../helpers/net.js';
import { configure } from '../stats/setup.js';
import { connectClient, echoServer, type Client, type EchoServer } from '../stats/tcp.js';
import { converse, send, socat, socatMissing } from './cli.js';

const missing = socatMissing();
if (missing) console.warn(`skipping the runtime socket tests: ${missing}`);

describe.skipIf(missing !== undefined)('runtime socket', () => {
  let dir: string;
  let path: string;
  let started: StartedApp;
  const upstreams: EchoServer[] = [];
  let frontendPort: number;

  const head = async () =>
    Number((await started.request.get('/api/v1/config')).headers.etag.replace(/"/g, ''));
  const server = async (name: string) =>
    (await started.request.get(`/api/v1/backends/be/servers/${name}`)).body as {
      weight: number;
      adminState: string;
    };
  const auditOf = async (action: string) =>
    (await started.request.get('/api/v1/audit').query({ action })).body.items as Array<{
      actor: string;
      role: string;
      target: string;
      result: string;
      detail?: string;
      revisionId?: number;
    }>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-sock-'));
    path = join(dir, 'tether.sock');
    for (let i = 0; i < 2; i++) upstreams.push(await echoServer());
    frontendPort = await freePort();
    started = await startApp({ env: { TETHER_SOCKET: path } });
    await configure(started, {
      frontend: 'fe',
      backend: 'be',
      port: frontendPort,
      servers: upstreams.map((u, i) => ({ name: `s${i + 1}`, port: u.port, check: false })),
    });
  });

  afterAll(async () => {
    await started?.close();
    for (const u of upstreams) await u.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the socket with mode 600', () => {
    const stat = statSync(path);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
  });

  it('answers `echo "show stat" | socat stdio <sock>` with the CSV of GET /stats?format=csv', async () => {
    const answer = await socat(path, 'show stat\n');
    const lines = answer.split('\n');
    expect(lines[0]).toBe(HAPROXY_26_HEADER);
    expect(lines.slice(1, -2).map((l) => l.split(',').slice(0, 2).join('/'))).toEqual([
      'fe/FRONTEND',
      'be/s1',
      'be/s2',
      'be/BACKEND',
    ]);
    // The answer ends with the blank line that ends every CLI answer.
    expect(answer.endsWith(',\n\n')).toBe(true);
    const rest = (await started.request.get('/api/v1/stats?format=csv')).text;
    expect(rest.split('\n')[0]).toBe(lines[0]);
  });

  it('show stat takes HAProxy’s filters and refuses the formats it does not give', async () => {
    const rows = async (command: string) =>
      (await socat(path, `${command}\n`))
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((l) => l.split(',').slice(0, 2).join('/'));
    expect(await rows('show stat -1 4 -1')).toEqual(['be/s1', 'be/s2']);
    expect(await rows('show stat be 2 -1')).toEqual(['be/BACKEND']);
    expect(await rows('show stat -1 1 -1')).toEqual(['fe/FRONTEND']);
    expect(await rows('show stat -1 4 2')).toEqual(['be/s2']);
    expect(await socat(path, 'show stat nope 4 -1\n')).toBe('No such proxy.\n\n');
    expect(await socat(path, 'show stat json\n')).toBe(
      "'show stat json' is not supported by Tether: 'show stat' answers HAProxy's CSV only.\n\n",
    );
  });

  it('help lists the commands with HAProxy’s header', async () => {
    const answer = await socat(path, 'help\n');
    expect(answer.split('\n')[0]).toBe('The following commands are valid at this level:');
    expect(answer).toContain(
      "  get weight <bk>/<srv>                   : report a server's current weight\n",
    );
    expect(answer).toMatch(/ {2}quit {36}: disconnect\n\n$/);
    expect(await socat(path, 'help set\n')).not.toContain('show stat');
  });

  it('show info has HAProxy’s keys with this process’s values', async () => {
    const answer = await socat(path, 'show info\n');
    const info = new Map(
      answer
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
    );
    expect(info.get('Name')).toBe('Tether');
    expect(info.get('Version')).toBe(
      (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string }).version,
    );
    expect(info.get('Pid')).toBe(String(process.pid));
    expect(info.get('Uptime')).toMatch(/^\d+d \d+h\d\dm\d\ds$/);
    for (const key of ['Version', 'Maxconn', 'CurrConns', 'CumConns', 'Listeners', 'Uptime_sec']) {
      expect(info.has(key), key).toBe(true);
    }
    expect(info.get('Listeners')).toBe('1');
  });

  it('show backend, show errors, show servers state', async () => {
    expect(await socat(path, 'show backend\n')).toBe('# name\nbe\n\n');
    expect(await socat(path, 'show errors\n')).toMatch(
      /^Total events captured on \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] : 0\n\n$/,
    );
    const state = (await socat(path, 'show servers state\n')).split('\n');
    expect(state[0]).toBe('1');
    expect(state[1]).toMatch(/^# be_id be_name srv_id srv_name srv_addr srv_op_state /);
    expect(state[2]).toMatch(/^2 be 1 s1 127\.0\.0\.1 2 0 1 1 \d+ 1 0 2 0 0 0 0 - \d+ - 0 0 - - 0$/);
    expect(state[3]).toMatch(/^2 be 2 s2 /);
    expect(await socat(path, 'show servers state be\n')).toBe(state.join('\n'));
    expect(await socat(path, 'show servers state nope\n')).toBe("Can't find backend.\n\n");
  });

  it('set weight makes a revision through the config pipeline, audited as socket', async () => {
    expect(await socat(path, 'get weight be/s1\n')).toBe('1 (initial 1)\n\n');
    const before = await head();
    expect(await socat(path, 'set weight be/s1 5\n')).toBe('\n');
    expect(await head()).toBe(before + 1);
    expect((await server('s1')).weight).toBe(5);
    // HAProxy's initial weight is the one before the socket changed it (initial-weight.test.ts).
    expect(await socat(path, 'get weight be/s1\n')).toBe('5 (initial 1)\n\n');
    const [entry] = await auditOf('server.weight');
    expect(entry).toMatchObject({ actor: 'socket', role: 'admin', target: 'be/s1', result: 'ok' });
    expect(entry!.revisionId).toBe(before + 1);

    expect(await socat(path, 'set server be/s1 weight 3\n')).toBe('\n');
    expect(await head()).toBe(before + 2);
    expect((await server('s1')).weight).toBe(3);
    // Relative weights are of the initial weight, as in HAProxy: 200% of 1.
    expect(await socat(path, 'set weight be/s1 200%\n')).toBe('\n');
    expect((await server('s1')).weight).toBe(2);
  });

  it('admin states go through the server-states service: no revision, audited as socket', async () => {
    const before = await head();
    expect(await socat(path, 'set server be/s2 state drain\n')).toBe('\n');
    expect((await server('s2')).adminState).toBe('drain');
    expect(await socat(path, 'disable server be/s2\n')).toBe('\n');
    expect((await server('s2')).adminState).toBe('maint');
    const state = await socat(path, 'show servers state be\n');
    expect(state.split('\n')[3]).toMatch(/^2 be 2 s2 127\.0\.0\.1 0 1 /);
    expect(await socat(path, 'enable server be/s2\n')).toBe('\n');
    expect((await server('s2')).adminState).toBe('ready');
    expect(await socat(path, 'set server be/s2 state maint\n')).toBe('\n');
    expect(await socat(path, 'set server be/s2 state ready\n')).toBe('\n');
    expect(await head()).toBe(before);
    const entries = await auditOf('server.state');
    expect(entries.slice(0, 5).map((e) => [e.actor, e.role, e.target, e.detail])).toEqual([
      ['socket', 'admin', 'be/s2', 'maint → ready'],
      ['socket', 'admin', 'be/s2', 'ready → maint'],
      ['socket', 'admin', 'be/s2', 'maint → ready'],
      ['socket', 'admin', 'be/s2', 'drain → maint'],
      ['socket', 'admin', 'be/s2', 'ready → drain'],
    ]);
  });

  it('disable/enable frontend change `enabled` through the config pipeline', async () => {
    const before = await head();
    expect(await socat(path, 'disable frontend fe\n')).toBe('\n');
    expect((await started.request.get('/api/v1/frontends/fe')).body).toMatchObject({
      enabled: false,
      status: 'STOP',
    });
    expect(await socat(path, 'disable frontend fe\n')).toBe('All sockets are already disabled.\n\n');
    expect(await socat(path, 'enable frontend fe\n')).toBe('\n');
    expect(await socat(path, 'enable frontend fe\n')).toBe('All sockets are already enabled.\n\n');
    expect(await head()).toBe(before + 2);
    const entries = await auditOf('frontend.update');
    expect(entries.slice(0, 2).map((e) => [e.actor, e.target, e.result])).toEqual([
      ['socket', 'fe', 'ok'],
      ['socket', 'fe', 'ok'],
    ]);
    await waitFor(
      async () => (await started.request.get('/api/v1/frontends/fe')).body.status === 'OPEN',
      5000,
      'fe open again',
    );
  });

  it('a change the pipeline refuses answers its message on one line, is audited as failed, changes nothing', async () => {
    expect(await socat(path, 'disable frontend fe\n')).toBe('\n');
    const before = await head();
    const squatter = await holdPort(frontendPort);
    try {
      const answer = await socat(path, 'enable frontend fe\n');
      expect(answer).toMatch(/^[^\n]*EADDRINUSE[^\n]*\n\n$/);
      expect(await head()).toBe(before);
      expect((await started.request.get('/api/v1/frontends/fe')).body.enabled).toBe(false);
      const [entry] = await auditOf('frontend.update');
      expect(entry).toMatchObject({ actor: 'socket', role: 'admin', target: 'fe', result: 'failed' });
      expect(entry!.detail).toContain('EADDRINUSE');
    } finally {
      await squatter.close();
    }
    expect(await socat(path, 'enable frontend fe\n')).toBe('\n');
    await waitFor(
      async () => (await started.request.get('/api/v1/frontends/fe')).body.status === 'OPEN',
      5000,
      'fe open again',
    );
  });

  it('show sess lists live sessions; show sess <id> details one; shutdown session / sessions close them', async () => {
    const clients: Client[] = [];
    for (let i = 0; i < 2; i++) {
      const client = await connectClient(frontendPort);
      await client.roundTrip('hello');
      clients.push(client);
    }
    const list = (await socat(path, 'show sess\n')).split('\n').filter(Boolean);
    expect(list).toHaveLength(2);
    for (const line of list) {
      expect(line).toMatch(
        /^0x[0-9a-f]+: proto=tcpv4 src=127\.0\.0\.1:\d+ fe=fe be=be srv=s[12] ts=00 .* age=\d+s /,
      );
    }
    const id = list[0]!.split(':')[0]!;
    const detail = await socat(path, `show sess ${id}\n`);
    expect(detail).toMatch(new RegExp(`^${id}: \\[.*\\] id=\\d+ proto=tcpv4 source=127\\.0\\.0\\.1:\\d+\\n`));
    expect(detail).toContain('  frontend=fe (id=1 mode=tcp)');
    expect(await socat(path, 'show sess 0xfffff\n')).toBe('Session not found.\n\n');

    expect(await socat(path, `shutdown session ${id}\n`)).toBe('\n');
    await clients[0]!.closed;
    const [kill] = await auditOf('session.kill');
    expect(kill).toMatchObject({ actor: 'socket', result: 'ok' });
    expect(await socat(path, `shutdown session ${id}\n`)).toBe("No such session (use 'show sess').\n\n");

    const srv = /srv=(s\d)/.exec(list[1]!)![1];
    expect(await socat(path, `shutdown sessions server be/${srv}\n`)).toBe('\n');
    await clients[1]!.closed;
    const [shutdown] = await auditOf('server.shutdown-sessions');
    expect(shutdown).toMatchObject({ actor: 'socket', target: `be/${srv}`, detail: '1 session(s) closed' });
    expect(await socat(path, 'show sess\n')).toBe('\n');
  });

  it('answers bad arguments with HAProxy’s own messages and changes nothing', async () => {
    const before = await head();
    const cases: Array<[string, string]> = [
      ['get weight be', "Require 'backend/server'.\n\n"],
      ['get weight', "Require 'backend/server'.\n\n"],
      ['get weight nope/s1', 'No such backend.\n\n'],
      ['get weight be/nope', 'No such server.\n\n'],
      ['set weight be/s1', 'Require <weight> or <weight%>.\n\n'],
      ['set weight be/s1 abc', 'Empty weight string empty or preceded by garbage\n'],
      ['set weight be/s1 10x', 'Trailing garbage in weight string\n'],
      ['set weight be/s1 300', 'Absolute weight can only be between 0 and 256 inclusive.\n\n'],
      ['set weight be/s1 -1', 'Absolute weight can only be between 0 and 256 inclusive.\n\n'],
      ['set server be/s1 state foo', "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"],
      ['set server be/s1 state', "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"],
      ['set server be/s1 weight', 'Require <weight> or <weight%>.\n\n'],
      [
        'set server be/s1',
        'usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n\n',
      ],
      ['set server', "Require 'backend/server'.\n\n"],
      ['disable server be/nope', 'No such server.\n\n'],
      ['enable server be', "Require 'backend/server'.\n\n"],
      ['shutdown sessions server nope/s1', 'No such backend.\n\n'],
      ['shutdown session', "Session pointer expected (use 'show sess').\n\n"],
      ['shutdown session zz', "Session pointer expected (use 'show sess').\n\n"],
      ['shutdown session 0x1234', "No such session (use 'show sess').\n\n"],
      ['enable frontend nope', 'No such frontend.\n\n'],
      ['disable frontend', 'A frontend name is expected.\n\n'],
    ];
    for (const [command, answer] of cases) expect(await socat(path, `${command}\n`), command).toBe(answer);
    expect(await head()).toBe(before);
    expect((await server('s1')).weight).toBe(2);
  });

  it('answers unknown commands as HAProxy does', async () => {
    const maybe = await socat(path, 'set foo\n');
    expect(maybe.split('\n')[0]).toBe(
      'Unknown command, but maybe one of the following ones is a better match:',
    );
    expect(maybe).toContain('  set weight <bk>/<srv>');
    expect(maybe).toMatch(/ {2}quit {36}: disconnect\n\n$/);
    expect((await socat(path, 'bogus\n')).split('\n')[0]).toBe(
      'Unknown command, but maybe one of the following ones is a better match:',
    );
    const empty = await socat(path, '\n');
    expect(empty.split('\n')[0]).toBe('Unknown command. Please enter one of the following commands only:');
    expect(empty).toContain('  show stat ');
  });

  it('runs several commands of one line separated by `;`, a backslash escaping one', async () => {
    expect(await socat(path, 'get weight be/s1;get weight be/s2 ; show backend\n')).toBe(
      '2 (initial 1)\n\n1 (initial 1)\n\n# name\nbe\n\n',
    );
    expect(await socat(path, 'get weight be\\;s1\n')).toBe("Require 'backend/server'.\n\n");
    // Several lines sent at once are all answered before the close.
    expect(await socat(path, 'get weight be/s1\nget weight be/s2\n')).toBe(
      '2 (initial 1)\n\n1 (initial 1)\n\n',
    );
  });

  it('prompt: interactive mode with `> ` after each answer, until quit', async () => {
    const c = await converse(path);
    expect(await c.ask('prompt')).toBe('\n> ');
    expect(await c.ask('get weight be/s2')).toBe('1 (initial 1)\n\n> ');
    expect(await c.ask('get weight be/s2;show backend')).toBe('1 (initial 1)\n\n> # name\nbe\n\n> ');
    expect(await c.ask('set server be/s2 state drain')).toBe('\n> ');
    expect((await server('s2')).adminState).toBe('drain');
    expect(await c.ask('set server be/s2 state ready')).toBe('\n> ');
    c.socket.write('quit\n');
    await c.closed;
    expect(c.rest()).toBe('');
  });

  it('never lets a client crash it or grow it: huge lines, garbage, 1,000 chained commands, many clients', async () => {
    // A line past 64 KB: an error, then the close; the app answers the next client as before.
    const huge = await send(path, `get weight ${'a'.repeat(70_000)}\n`);
    expect(huge).toBe('Command line too long (more than 65536 bytes).\n\n');
    const endless = await send(path, Buffer.alloc(200_000, 0x41));
    expect(endless).toBe('Command line too long (more than 65536 bytes).\n\n');
    // Binary garbage is an unknown command, without echoing the bytes back.
    const garbage = Buffer.from(
      Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256).filter((b) => b !== 10),
    );
    const answer = await send(path, Buffer.concat([garbage, Buffer.from('\n')]));
    expect(answer.split('\n')[0]).toMatch(/^Unknown command/);
    // 1,000 commands on one line: 1,000 answers, in order.
    const chained = await send(path, `${Array(1000).fill('get weight be/s2').join(';')}\n`);
    expect(chained).toBe('1 (initial 1)\n\n'.repeat(1000));
    // At most 16 clients at once: the 17th is told so; once one leaves, a newcomer is served.
    const holders = await Promise.all(Array.from({ length: 16 }, () => converse(path)));
    for (const h of holders) expect(await h.ask('prompt')).toBe('\n> ');
    expect(await send(path, 'show backend\n')).toBe('Too many clients on the runtime socket (at most 16).\n');
    holders[0]!.socket.end('quit\n');
    await holders[0]!.closed;
    await waitFor(async () => (await send(path, 'show backend\n')) === '# name\nbe\n\n', 5000, 'a free slot');
    for (const h of holders.slice(1)) h.socket.destroy();
    // 40 clients at once: each is answered in full or told to come back, never cut mid-answer.
    const answers = await Promise.all(Array.from({ length: 40 }, () => send(path, 'show stat\n')));
    for (const a of answers) expect(a.startsWith('# pxname') || a.startsWith('Too many clients')).toBe(true);
    expect(answers.some((a) => a.startsWith('# pxname') && a.endsWith(',\n\n'))).toBe(true);
    // The REST API is unaffected.
    expect((await started.request.get('/api/v1/config')).status).toBe(200);
  });

  it('holds little for clients that send much and never read: output waits for them, others are served', async () => {
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 8; i++) {
      const socket = net.connect(path);
      socket.on('error', () => undefined);
      socket.pause();
      socket.write('prompt\n');
      for (let j = 0; j < 20; j++) socket.write(`${Array(300).fill('show stat').join(';')}\n`);
      sockets.push(socket);
    }
    const service = started.app.get(RuntimeSocketService);
    await waitFor(() => service.connections.size === 8, 5000, '8 connections');
    // Each has stopped at the output bound (plus the one answer that crossed it), reading no more input.
    await waitFor(
      () => [...service.connections].every((c) => c.writableLength > OUTPUT_HIGH_WATER),
      10_000,
      'the stalled clients at the output bound',
    );
    for (const c of service.connections) expect(c.writableLength).toBeLessThan(OUTPUT_HIGH_WATER + 64 * 1024);
    expect(await send(path, 'show backend\n')).toBe('# name\nbe\n\n');
    expect((await started.request.get('/api/v1/config')).status).toBe(200);
    for (const socket of sockets) socket.destroy();
    await waitFor(() => service.connections.size === 0, 5000, 'the stalled clients gone');
  });

  it('disconnects a silent interactive client after the idle timeout (10 s, as HAProxy’s stats timeout)', async () => {
    const c = await converse(path);
    expect(await c.ask('prompt')).toBe('\n> ');
    const since = Date.now();
    await Promise.race([c.closed, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    expect(c.socket.destroyed).toBe(true);
    // Not before the timeout (a lower bound only: a busy machine may close it later).
    expect(Date.now() - since).toBeGreaterThanOrEqual(9_000);
  }, 30_000);

  it('in non-interactive mode closes once it has answered, without waiting for the client', async () => {
    const c = await converse(path);
    c.socket.write('show backend\n');
    await c.closed;
    expect(c.rest()).toBe('# name\nbe\n\n');
  });
});

describe.skipIf(missing !== undefined)('runtime socket file', () => {
  it('replaces a stale socket file at start and removes it at shutdown; TETHER_SOCKET=off opens none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-sock-'));
    try {
      const path = join(dir, 'stale.sock');
      // A socket file nobody listens on, as a killed process leaves it.
      const made = spawnSync('python3', [
        '-c',
        `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(path)})`,
      ]);
      expect(made.status, String(made.stderr)).toBe(0);
      expect(statSync(path).isSocket()).toBe(true);
      const started = await startApp({ env: { TETHER_SOCKET: path } });
      try {
        expect(await socat(path, 'show backend\n')).toBe('# name\n\n');
        expect(statSync(path).mode & 0o777).toBe(0o600);
      } finally {
        await started.close();
      }
      expect(existsSync(path)).toBe(false);

      // The default: tether.sock beside the database; off: none.
      const { dbPath } = { dbPath: join(dir, 'db', 'tether.db') };
      const byDefault = await startApp({ dbPath });
      try {
        expect(await socat(join(dir, 'db', 'tether.sock'), 'show backend\n')).toBe('# name\n\n');
      } finally {
        await byDefault.close();
      }
      const off = await startApp({ dbPath, env: { TETHER_SOCKET: 'off' } });
      await off.close();
      expect(existsSync(join(dir, 'db', 'tether.sock'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start over a file that is not a socket, and leaves the file alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-sock-'));
    try {
      const path = join(dir, 'not-a-socket');
      writeFileSync(path, 'keep me');
      await expect(startApp({ env: { TETHER_SOCKET: path } })).rejects.toThrow(/is not a socket/);
      expect(statSync(path).isFile()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
