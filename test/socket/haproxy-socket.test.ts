// Issue 9, point 4 (the socket half): one command script sent to a real HAProxy 2.6 and to Tether, both
// configured alike, gets answers of the same shape: the same header lines, column sets and keys, and the very
// same error texts. Values (counters, ids, dates, pids) are not compared.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { freePort, waitFor } from '../helpers/net.js';
import { haproxyMissing, startHaproxy, type Haproxy } from '../stats/haproxy.js';
import { configure } from '../stats/setup.js';
import { connectClient, echoServer, type Client, type EchoServer } from '../stats/tcp.js';
import { send, socat, socatMissing } from './cli.js';

const missing = haproxyMissing() ?? socatMissing();
if (missing) console.warn(`skipping the runtime socket comparison with HAProxy: ${missing}`);

/** Digits, dates and hex ids replaced: what is left is the shape of an answer. */
function shape(text: string): string {
  return text
    .replace(/\[\d\d\/\w{3}\/\d{4}:[\d:.]+\]/g, '[DATE]')
    .replace(/0x[0-9a-f]+/g, '0xN')
    .replace(/\d+/g, 'N');
}

/** Answers that must be the same text, byte for byte: HAProxy's messages. */
const SAME_TEXT = [
  'get weight be',
  'get weight',
  'get weight nope/s1',
  'get weight be/nope',
  'set weight be/s1',
  'set weight be/s1 abc',
  'set weight be/s1 10x',
  'set weight be/s1 300',
  'set weight be/s1 -1',
  'set weight be/s1 -5%',
  'set server be/s1 state foo',
  'set server be/s1 state',
  'set server be/s1 weight',
  'set server be/s1',
  'set server',
  'set server nope/s1 state drain',
  'disable server be/nope',
  'enable server be',
  'shutdown sessions server nope/s1',
  'shutdown sessions server be',
  'shutdown session',
  'shutdown session zz',
  'shutdown session 0x1234',
  'enable frontend nope',
  'disable frontend',
  'show servers state nope',
  'show sess 0x1',
  'show backend',
  // Changes that succeed answer the bare blank line; repeated ones say so.
  'set server be/s1 state drain',
  'set server be/s1 state ready',
  'set weight be/s1 2',
  'set server be/s1 weight 2',
  'disable server be/s1',
  'enable server be/s1',
  'shutdown sessions server be/s2',
  'disable frontend fe',
  'disable frontend fe',
  'enable frontend fe',
  'enable frontend fe',
  'get weight be/s1',
  'get weight be/s1;get weight be/s2;show backend',
  'quit',
];

/** Answers whose shape (digits and dates aside) must be the same. */
const SAME_SHAPE = ['show errors', 'set weight be/s1 100%;get weight be/s1', 'show servers state be'];

describe.skipIf(missing !== undefined)('runtime socket, side by side with HAProxy 2.6', () => {
  let started: StartedApp;
  let haproxy: Haproxy;
  let dir: string;
  let ours: string;
  let ourPort: number;
  let theirPort: number;
  const upstreams: EchoServer[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-sock-'));
    ours = join(dir, 'tether.sock');
    for (let i = 0; i < 2; i++) upstreams.push(await echoServer());
    const [p1, p2] = upstreams.map((u) => u.port) as [number, number];
    [ourPort, theirPort] = [await freePort(), await freePort()];
    started = await startApp({ env: { TETHER_SOCKET: ours } });
    await configure(started, {
      frontend: 'fe',
      backend: 'be',
      port: ourPort,
      servers: [
        { name: 's1', port: p1, weight: 2, check: false },
        { name: 's2', port: p2 },
      ],
    });
    haproxy = await startHaproxy(
      [
        'defaults',
        '  mode tcp',
        '  timeout connect 5s',
        '  timeout client 1h',
        '  timeout server 1h',
        'frontend fe',
        `  bind 127.0.0.1:${theirPort}`,
        '  default_backend be',
        'backend be',
        '  balance roundrobin',
        `  server s1 127.0.0.1:${p1} weight 2`,
        `  server s2 127.0.0.1:${p2} check inter 500 fall 3 rise 2`,
        '',
      ].join('\n'),
    );
    // Both see s2 UP before the comparison.
    await waitFor(
      async () => / be 2 s2 \S+ 2 /.test(await haproxy.command('show servers state')),
      10_000,
      'HAProxy check of s2',
    );
    await waitFor(
      async () => / be 2 s2 \S+ 2 /.test(await socat(ours, 'show servers state\n')),
      10_000,
      'Tether check of s2',
    );
  });

  afterAll(async () => {
    for (const c of clients) c.socket.destroy();
    await haproxy?.stop();
    await started?.close();
    for (const u of upstreams) await u.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const both = async (input: string) => ({
    tether: await send(ours, input),
    haproxy: await send(haproxy.socketPath, input),
  });

  it('answers HAProxy’s messages with the same text', async () => {
    for (const command of SAME_TEXT) {
      const answers = await both(`${command}\n`);
      if (command !== 'quit') expect(answers.haproxy, command).not.toBe('');
      expect(answers.tether, command).toBe(answers.haproxy);
    }
  });

  it('answers with the same shape where values differ', async () => {
    for (const command of SAME_SHAPE) {
      const answers = await both(`${command}\n`);
      expect(shape(answers.tether), command).toBe(shape(answers.haproxy));
    }
  });

  it('show stat, whole and filtered: the same header line, rows and columns', async () => {
    const parse = (text: string) => {
      const lines = text.split('\n');
      return {
        header: lines[0],
        rows: lines.slice(1, -2).map((l) => `${l.split(',').slice(0, 2).join('/')}:${l.split(',').length}`),
        end: lines.slice(-2),
      };
    };
    for (const filter of [
      '',
      ' -1 4 -1',
      ' be 4 -1',
      ' -1 1 -1',
      ' be 2 1',
      ' -1 x -1',
      ' be',
      ' up',
      ' no-maint',
    ]) {
      const answers = await both(`show stat${filter}\n`);
      expect(parse(answers.tether), filter).toEqual(parse(answers.haproxy));
    }
    const unknown = await both('show stat nope 4 -1\n');
    expect(unknown.tether).toBe(unknown.haproxy);
  });

  it('show info: the same keys in the same order', async () => {
    const answers = await both('show info\n');
    const keys = (text: string) => text.split('\n').map((l) => l.split(':')[0]);
    expect(keys(answers.tether)).toEqual(keys(answers.haproxy));
  });

  it('show servers state: the same version line, header and columns', async () => {
    const answers = await both('show servers state\n');
    const parse = (text: string) =>
      text.split('\n').map((l, i) =>
        i < 2
          ? l
          : l
              .split(' ')
              .map((f, j) => (j === 1 || j === 3 ? f : ''))
              .join(' '),
      );
    expect(parse(answers.tether)).toEqual(parse(answers.haproxy));
  });

  it('help and unknown commands: the same headers, and each of our help lines is HAProxy’s', async () => {
    const theirHelp = (await send(haproxy.socketPath, 'help\n')).split('\n');
    for (const command of ['help', 'bogus', 'set foo', '', 'show foo']) {
      const answers = await both(`${command}\n`);
      const [ourHead, ...ourLines] = answers.tether.split('\n');
      expect(ourHead, command).toBe(answers.haproxy.split('\n')[0]);
      // HAProxy suggests by a similarity of its own: our suggestions are lines of its help, not its very choice.
      for (const line of ourLines) expect(theirHelp, `${command}: ${line}`).toContain(line);
      expect(answers.tether.endsWith('\n\n')).toBe(answers.haproxy.endsWith('\n\n'));
    }
  });

  it('prompt mode: the same prompts, answers and close', async () => {
    const script =
      'prompt\nget weight be/s1\nget weight be/s1;show backend\nset weight be/s1 abc\nbogus\nquit\n';
    const answers = await both(script);
    const firstLines = (text: string) =>
      text
        .split('\n')
        .filter((l) => !l.startsWith('  '))
        .join('\n');
    expect(firstLines(answers.tether)).toBe(firstLines(answers.haproxy));
  });

  it('show sess / show sess <id> / shutdown session: the same keys for a proxied session', async () => {
    for (const port of [ourPort, theirPort]) {
      const client = await connectClient(port);
      await client.roundTrip('hello');
      clients.push(client);
    }
    const answers = await both('show sess\n');
    const proxied = (text: string) => text.split('\n').filter((l) => l.includes(' fe=fe '));
    const keys = (line: string) => Array.from(line.matchAll(/([\w]+)=/g), (m) => m[1]).join(' ');
    const [ourLine] = proxied(answers.tether);
    const [theirLine] = proxied(answers.haproxy);
    expect(ourLine).toBeDefined();
    expect(keys(ourLine!)).toBe(keys(theirLine!));
    expect(shape(ourLine!).split(' ').slice(0, 2)).toEqual(shape(theirLine!).split(' ').slice(0, 2));

    const ourId = ourLine!.split(':')[0]!;
    const theirId = theirLine!.split(':')[0]!;
    const detail = {
      tether: await send(ours, `show sess ${ourId}\n`),
      haproxy: await send(haproxy.socketPath, `show sess ${theirId}\n`),
    };
    // The head of the dump: the same first line and the same leading keys of the lines that follow.
    const head = (text: string) =>
      text
        .split('\n')
        .slice(0, 5)
        .map((l, i) => (i === 0 ? shape(l).replace(/source=\S+/, 'source=') : l.split('=')[0]));
    expect(head(detail.tether)).toEqual(head(detail.haproxy));

    const shutdown = {
      tether: await send(ours, `shutdown session ${ourId}\n`),
      haproxy: await send(haproxy.socketPath, `shutdown session ${theirId}\n`),
    };
    expect(shutdown.tether).toBe(shutdown.haproxy);
    await Promise.all(clients.map((c) => c.closed));
  });
});
