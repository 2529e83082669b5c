// `show drains` on the runtime socket (docs/runtime-socket.md): one line per draining server with the drain's
// progress, through the real socat; HAProxy's own formats (`show servers state`) are unchanged by a drain.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRAINS_HEADER } from '../../src/socket/cli-formats.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { connect, readLine, waitFor, type TestServer } from '../helpers/net.js';
import { socat, socatMissing } from '../socket/cli.js';
import { adminState, farm, upstreams } from './helpers.js';

const missing = socatMissing();
const dir = mkdtempSync(join(tmpdir(), 'tether-drain-sock-'));
const path = join(dir, 'tether.sock');
let t: StartedApp;
let servers: TestServer[] = [];
const clients: Socket[] = [];

beforeAll(async () => {
  t = await startApp({ env: { TETHER_SOCKET: path } });
  servers = await upstreams();
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await t?.close();
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(missing)('show drains', () => {
  it('lists each draining server with its progress, and only those', async () => {
    const port = await farm(t, servers);
    for (let i = 0; i < 2; i++) {
      const c = await connect(port);
      clients.push(c);
      expect(await readLine(c)).toBe('one');
    }
    expect(await socat(path, 'show drains\n')).toBe(`1\n${DRAINS_HEADER}\n\n`);
    const stateBefore = await socat(path, 'show servers state b\n');

    const res = await t.request
      .put('/api/v1/backends/b/servers/one/state')
      .send({ state: 'drain', deadline: 60_000 });
    expect(res.status).toBe(200);
    await socat(path, 'set server b/two state drain\n');
    const { startedAt, deadlineAt } = res.body.drain as { startedAt: number; deadlineAt: number };

    const answer = await socat(path, 'show drains\n');
    const lines = answer.split('\n');
    expect(lines.slice(0, 2)).toEqual(['1', DRAINS_HEADER]);
    expect(lines.slice(-2)).toEqual(['', '']);
    const [one, two] = lines.slice(2, -2).map((l) => l.split(' '));
    expect(one.slice(0, 6)).toEqual(['b', 'one', String(startedAt), String(deadlineAt), 'maint', '2']);
    expect(Number(one[6])).toBeGreaterThan(0); // the oldest session's age
    expect(Number(one[7])).toBeGreaterThan(0);
    expect(Number(one[7])).toBeLessThanOrEqual(60_000);
    expect(one.slice(8)).toEqual(['-', '0']);
    expect(two[0]).toBe('b');
    expect(two[1]).toBe('two');
    expect(two.slice(3)).toEqual(['-', '-', '0', '0', '-', '-', '0']);

    // A backend filter, and HAProxy's message for an unknown one.
    expect((await socat(path, 'show drains b\n')).split('\n').length).toBe(lines.length);
    expect(await socat(path, 'show drains nope\n')).toBe("Can't find backend.\n\n");

    // HAProxy's format is the same as before apart from the admin state column (8 = drain) and lastchg.
    const stateNow = await socat(path, 'show servers state b\n');
    expect(stateNow.split('\n').length).toBe(stateBefore.split('\n').length);
    expect(stateNow.split('\n')[2].split(' ')[6]).toBe('8');

    // A new state (`set server … state maint`) replaces the operation: the line goes.
    await socat(path, 'set server b/one state maint\n');
    expect(await adminState(t, 'one')).toBe('maint');
    await waitFor(async () => !(await socat(path, 'show drains\n')).includes('b one '), 5000, 'one gone');
  });
});
