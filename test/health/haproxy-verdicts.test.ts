// Issue 9: the same tcp-check config, run by Tether and by a real HAProxy 2.6 (Debian's) on Tether's export,
// reaches the same UP/DOWN verdict per server: a server that answers +PONG, one that answers something else, one
// that never answers, and one whose service port is closed but whose check port answers. Verdicts and HAProxy's
// own texts (last_chk) are compared, never timings.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../socket/cli.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { closedPort } from '../helpers/health-targets.js';
import { freePort, waitFor } from '../helpers/net.js';
import { haproxyMissing, startHaproxy, type Haproxy } from '../stats/haproxy.js';
import { behavingServer, type CountingServer } from './redis-like.js';

const missing = haproxyMissing();
if (missing) console.warn(`skipping the HAProxy check comparison: ${missing}`);

interface Verdict {
  status: string;
  check: string;
  detail: string;
}

describe.skipIf(missing !== undefined)(
  'tcp-check verdicts: Tether and HAProxy 2.6 on the same config',
  () => {
    let t: StartedApp;
    let haproxy: Haproxy | undefined;
    const upstreams: CountingServer[] = [];
    let frontendPort = 0;

    let socketDir = '';
    beforeAll(async () => {
      socketDir = mkdtempSync(join(tmpdir(), 'tether-checks-'));
      t = await startApp({ env: { TETHER_SOCKET: join(socketDir, 'tether.sock') } });
      for (const behaviour of ['pong', 'wrong-then-close', 'silent'] as const)
        upstreams.push(await behavingServer(behaviour));
    });
    afterAll(async () => {
      await haproxy?.stop();
      await t?.close();
      for (const u of upstreams) await u.close();
      rmSync(socketDir, { recursive: true, force: true });
    });

    async function tether(): Promise<Record<string, Verdict>> {
      const stats = (await t.request.get('/api/v1/stats').expect(200)).body as {
        backends: Array<{
          name: string;
          servers: Array<{ name: string; health: string; check_status: string; check_desc: string }>;
        }>;
      };
      const servers = stats.backends.find((b) => b.name === 'redis')!.servers;
      return Object.fromEntries(
        servers.map((s) => [s.name, { status: s.health, check: s.check_status, detail: s.check_desc }]),
      );
    }

    async function real(): Promise<Record<string, Verdict>> {
      const csv = await haproxy!.command('show stat');
      const [header, ...rows] = csv.trim().split('\n');
      const columns = header.replace(/^# /, '').split(',');
      const at = (name: string) => columns.indexOf(name);
      const verdicts: Record<string, Verdict> = {};
      for (const row of rows.map((r) => r.split(','))) {
        if (row[at('pxname')] !== 'redis' || row[at('svname')] === 'BACKEND') continue;
        verdicts[row[at('svname')]] = {
          status: row[at('status')],
          check: row[at('check_status')],
          detail: row[at('last_chk')],
        };
      }
      return verdicts;
    }

    it('agree on UP/DOWN for the matching, non-matching, silent and check-port servers', async () => {
      const [pong, wrong, silent] = upstreams;
      const closed = await closedPort();
      frontendPort = await freePort();
      const config = {
        // Few enough descriptors for HAProxy to start as a plain user.
        defaults: { maxconn: 1000 },
        frontends: [{ name: 'fe', bind: { address: '127.0.0.1', port: frontendPort }, backend: 'redis' }],
        backends: [
          {
            name: 'redis',
            balance: 'roundrobin',
            check: {
              type: 'tcp',
              inter: 100,
              fall: 2,
              rise: 1,
              // Generous: a loaded machine must not make the answering servers look silent.
              timeout: 1500,
              steps: [{ send: 'PING\r\n' }, { expect: { string: '+PONG' } }],
            },
            servers: [
              { name: 'match', address: '127.0.0.1', port: pong.port },
              { name: 'nomatch', address: '127.0.0.1', port: wrong.port },
              { name: 'silent', address: '127.0.0.1', port: silent.port },
              { name: 'checkport', address: '127.0.0.1', port: closed, checkPort: pong.port },
              { name: 'checkclosed', address: '127.0.0.1', port: pong.port, checkPort: closed },
            ],
          },
        ],
      };
      const put = await t.request.put('/api/v1/config').send(config);
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      const verdict = (all: Record<string, Verdict>) =>
        Object.fromEntries(Object.entries(all).map(([name, v]) => [name, v.status]));
      const expected = { match: 'UP', nomatch: 'DOWN', silent: 'DOWN', checkport: 'UP', checkclosed: 'DOWN' };
      // Verdicts, not timings: each side is read once it has settled (bounded waits, then compared).
      const settled = async (read: () => Promise<Record<string, Verdict>>, what: string) => {
        let last: Record<string, Verdict> = {};
        try {
          await waitFor(
            async () => {
              last = await read();
              const statuses = Object.values(last).map((v) => v.check);
              // The failure text too: a check in progress can show its status with an empty text for a moment.
              const done =
                statuses.length === 5 &&
                statuses.every((c) => c !== '' && !c.includes('INI')) &&
                (last.nomatch?.detail ?? '') !== '';
              return done && JSON.stringify(verdict(last)) === JSON.stringify(expected);
            },
            20_000,
            what,
          );
        } catch {
          // Compared below, where a difference names the server.
        }
        return last;
      };
      const ours = await settled(tether, 'Tether verdicts');

      // The export, on another frontend port (Tether keeps its own), run by HAProxy.
      const exported = (await t.request.get('/api/v1/export/haproxy.cfg').expect(200)).text;
      const other = await freePort();
      haproxy = await startHaproxy(
        exported.replace(`bind 127.0.0.1:${frontendPort}`, `bind 127.0.0.1:${other}`),
      );
      const theirs = await settled(real, 'HAProxy verdicts');

      expect(verdict(ours)).toEqual(expected);
      expect(verdict(theirs)).toEqual(verdict(ours));
      // The same statuses (HAProxy prints the ones of a pass with a `* ` mark) and the same failure text.
      const statuses = (all: Record<string, Verdict>) =>
        Object.fromEntries(Object.entries(all).map(([name, v]) => [name, v.check.replace(/^\* /, '')]));
      expect(statuses(theirs)).toEqual(statuses(ours));
      expect(theirs.nomatch.detail).toBe(ours.nomatch.detail);
      expect(ours.nomatch.detail).toBe("TCPCHK did not match content '+PONG' at step 3");

      // `show servers state`: the same srv_check_port per server on both sockets (0 where checks use the port).
      const checkPorts = (answer: string) => {
        const [, header, ...rows] = answer.trim().split('\n');
        const at = header.replace(/^# /, '').split(' ').indexOf('srv_check_port');
        return Object.fromEntries(rows.map((r) => r.split(' ')).map((r) => [r[3], r[at]]));
      };
      const tetherPorts = checkPorts(
        await send(join(socketDir, 'tether.sock'), 'show servers state redis\n'),
      );
      expect(tetherPorts).toEqual(checkPorts(await haproxy!.command('show servers state redis')));
      expect(tetherPorts.checkport).toBe(String(pong.port));
      expect(tetherPorts.match).toBe('0');
    });
  },
);
