// Our GET /stats?format=csv against a real HAProxy 2.6 running the same TCP frontend/backend:
// the header must be identical, and every row must have the same fields filled and left empty.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { haproxyMissing, startHaproxy, type Haproxy } from './haproxy.js';
import { configure, setServerState, type ServerSpec } from './setup.js';
import { freePort, waitFor } from '../helpers/net.js';
import { connectClient, echoServer, type Client, type EchoServer } from './tcp.js';

const missing = haproxyMissing();
if (missing) console.warn(`skipping the HAProxy CSV comparison: ${missing}`);

/** Rows keyed "pxname/svname", in output order, and the header line. */
function parseShowStat(text: string): { header: string; rows: Map<string, string[]> } {
  const lines = text.split('\n').filter((l) => l !== '');
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const fields = line.split(',');
    rows.set(`${fields[0]}/${fields[1]}`, fields);
  }
  return { header: lines[0] ?? '', rows };
}

describe.skipIf(missing !== undefined)('HAProxy 2.6 show stat, side by side', () => {
  let started: StartedApp;
  let haproxy: Haproxy;
  const upstreams: EchoServer[] = [];
  const clients: Client[] = [];
  let ours: ReturnType<typeof parseShowStat>;
  let theirs: ReturnType<typeof parseShowStat>;
  let promexPort: number;

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) upstreams.push(await echoServer());
    const [s1, s2, s3, s4, s6] = upstreams.map((u) => u.port) as [number, number, number, number, number];
    const refused = await freePort();
    // s1 UP, s2 drained, s3 unchecked, s4 backup, s5 refused (DOWN), s6 in maintenance.
    const servers: ServerSpec[] = [
      { name: 's1', port: s1 },
      { name: 's2', port: s2, weight: 3, maxconn: 10 },
      { name: 's3', port: s3, check: false },
      { name: 's4', port: s4, backup: true },
      { name: 's5', port: refused },
      { name: 's6', port: s6 },
    ];
    const [ourPort, theirPort] = [await freePort(), await freePort()];
    promexPort = await freePort();

    started = await startApp();
    await configure(started, { frontend: 'fe', backend: 'be', port: ourPort, maxconn: 100, servers });
    await setServerState(started, 'be', 's2', 'drain');
    await setServerState(started, 'be', 's6', 'maint');

    const serverLines = servers.map((s) => {
      const options = [
        s.weight ? `weight ${s.weight}` : '',
        s.maxconn ? `maxconn ${s.maxconn}` : '',
        s.check === false ? '' : 'check inter 500 fall 3 rise 2',
        s.backup ? 'backup' : '',
      ];
      return `  server ${s.name} 127.0.0.1:${s.port} ${options.filter(Boolean).join(' ')}`;
    });
    haproxy = await startHaproxy(
      [
        'defaults',
        '  mode tcp',
        '  timeout connect 5s',
        '  timeout client 1h',
        '  timeout server 1h',
        'frontend prom',
        '  mode http',
        `  bind 127.0.0.1:${promexPort}`,
        '  http-request use-service prometheus-exporter',
        'frontend fe',
        `  bind 127.0.0.1:${theirPort}`,
        '  maxconn 100',
        '  default_backend be',
        'backend be',
        '  balance roundrobin',
        ...serverLines,
        '',
      ].join('\n'),
    );
    await haproxy.command('set server be/s2 state drain');
    await haproxy.command('set server be/s6 state maint');

    // Both have run their first checks: s1 UP with L4OK, s5 DOWN.
    await waitFor(
      async () => {
        const { rows } = parseShowStat(await haproxy.command('show stat'));
        return rows.get('be/s1')?.[17] === 'UP' && rows.get('be/s5')?.[17] === 'DOWN';
      },
      10_000,
      'HAProxy checks',
    );
    await waitFor(
      async () => {
        const stats = (await started.request.get('/api/v1/stats')).body as RuntimeStats;
        const servers = stats.backends[0]!.servers;
        return servers[0]!.check_status === 'L4OK' && servers[4]!.health === 'DOWN';
      },
      10_000,
      'Tether checks',
    );

    // The same traffic through both.
    for (const port of [ourPort, theirPort]) {
      for (let i = 0; i < 3; i++) {
        const client = await connectClient(port);
        clients.push(client);
        await client.roundTrip('CMPP');
      }
    }

    // HAProxy shows a check in progress as '* ' before the last result (one every 500 ms here): read it between checks.
    await waitFor(
      async () => {
        theirs = parseShowStat(await haproxy.command('show stat'));
        const status = theirs.header.slice(2).split(',').indexOf('check_status');
        return [...theirs.rows.values()].every((row) => !row[status]?.startsWith('* '));
      },
      5_000,
      'HAProxy between two checks',
    );
    const res = await started.request.get('/api/v1/stats?format=csv');
    expect(res.status).toBe(200);
    ours = parseShowStat(res.text);
  });

  afterAll(async () => {
    for (const c of clients) c.socket.destroy();
    await haproxy?.stop();
    await started?.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('prints exactly the header HAProxy 2.6 prints', () => {
    expect(theirs.header.startsWith('# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,')).toBe(true);
    expect(ours.header).toBe(theirs.header);
  });

  it('prints the same rows in the same order', () => {
    theirs.rows.delete('prom/FRONTEND'); // HAProxy's own exporter, not part of the comparison
    expect([...ours.rows.keys()]).toEqual([...theirs.rows.keys()]);
    expect([...ours.rows.keys()]).toEqual([
      'fe/FRONTEND',
      'be/s1',
      'be/s2',
      'be/s3',
      'be/s4',
      'be/s5',
      'be/s6',
      'be/BACKEND',
    ]);
  });

  it("exports /metrics under HAProxy's exporter names, types and label sets", async () => {
    const families = (text: string) => {
      const types = new Map<string, string>();
      const labels = new Map<string, Set<string>>();
      for (const line of text.split('\n')) {
        const type = /^# TYPE (\S+) (\S+)$/.exec(line);
        // Tether's own families (tether_*) have no HAProxy counterpart.
        if (type && type[1]!.startsWith('haproxy_')) types.set(type[1]!, type[2]!);
        const sample = /^(haproxy_(?:frontend|backend|server)_\w+)\{([^}]*)\}/.exec(line);
        if (sample && !sample[2]!.includes('"prom"')) {
          const keys = sample[2]!
            .split(',')
            .map((pair) => pair.split('=')[0])
            .join(',');
          labels.set(sample[1]!, (labels.get(sample[1]!) ?? new Set()).add(keys));
        }
      }
      return { types, labels };
    };
    const response = await fetch(
      `http://127.0.0.1:${promexPort}/metrics?scope=frontend&scope=backend&scope=server`,
    );
    const original = families(await response.text());
    const res = await started.request.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const mine = families(res.text);
    expect(mine.types.size).toBeGreaterThan(40);
    const mismatches: string[] = [];
    for (const [name, type] of mine.types) {
      if (original.types.get(name) !== type)
        mismatches.push(`${name}: ${type}, haproxy ${original.types.get(name)}`);
      const ours = [...(mine.labels.get(name) ?? [])].sort().join(' ');
      const theirs = [...(original.labels.get(name) ?? [])].sort().join(' ');
      if (ours !== theirs) mismatches.push(`${name} labels: {${ours}}, haproxy {${theirs}}`);
    }
    expect(mismatches).toEqual([]);

    // The same states are set.
    const states = (text: string) =>
      text
        .split('\n')
        .filter(
          (l) => /^haproxy_(frontend|backend|server)_(status|check_status)\{/.test(l) && l.endsWith(' 1'),
        )
        .filter((l) => !l.includes('"prom"'))
        .sort();
    expect(states(res.text)).toEqual(
      states(await (await fetch(`http://127.0.0.1:${promexPort}/metrics`)).text()),
    );
  });

  it('fills and leaves empty the same columns on every row', () => {
    const columns = theirs.header.slice(2).split(',');
    const differences: string[] = [];
    for (const [key, theirRow] of theirs.rows) {
      const ourRow = ours.rows.get(key)!;
      expect(ourRow, key).toHaveLength(theirRow.length);
      theirRow.forEach((value, i) => {
        if ((value === '') !== (ourRow[i] === '')) {
          differences.push(
            `${key} ${columns[i]}: haproxy ${JSON.stringify(value)}, tether ${JSON.stringify(ourRow[i])}`,
          );
        }
      });
    }
    expect(differences).toEqual([]);
  });

  it('uses the same status words, check results and flags', () => {
    const columns = theirs.header.slice(2).split(',');
    const pick = (row: string[] | undefined, names: string[]) => names.map((n) => row?.[columns.indexOf(n)]);
    const same = ['status', 'type', 'act', 'bck', 'weight', 'uweight', 'slim', 'check_status', 'check_desc'];
    same.push('check_rise', 'check_fall', 'check_health', 'last_chk', 'addr', 'mode', 'algo', 'sid', 'pid');
    for (const [key, theirRow] of theirs.rows) {
      expect(pick(ours.rows.get(key), same), key).toEqual(pick(theirRow, same));
    }
  });

  it('counts the same sessions and bytes for the same traffic, once the sessions have ended', async () => {
    const columns = theirs.header.slice(2).split(',');
    const counters = ['scur', 'stot', 'bin', 'bout', 'conn_tot', 'dcon'];
    const pick = (row: string[] | undefined) => counters.map((n) => row?.[columns.indexOf(n)]);
    // Sessions and connections agree while the clients are connected...
    const live = ['scur', 'stot', 'conn_tot'].map((n) => columns.indexOf(n));
    for (const key of ['fe/FRONTEND', 'be/BACKEND']) {
      expect(live.map((i) => ours.rows.get(key)![i])).toEqual(live.map((i) => theirs.rows.get(key)![i]));
    }
    // ...but HAProxy books a TCP session's bytes only when the stream is processed again (at its end, here),
    // while Tether counts live bytes at once (docs/config-model.md, "Stats": counters must not hide long connections).
    for (const c of clients) c.socket.end();
    const settled = async (read: () => Promise<string>) =>
      waitFor(
        async () => {
          const { rows } = parseShowStat(await read());
          const fe = rows.get('fe/FRONTEND')!;
          return fe[columns.indexOf('scur')] === '0' ? rows : undefined;
        },
        10_000,
        'sessions to end',
      );
    const [mine, original] = await Promise.all([
      settled(async () => (await started.request.get('/api/v1/stats?format=csv')).text),
      settled(() => haproxy.command('show stat')),
    ]);
    expect(pick(mine.get('fe/FRONTEND'))).toEqual(pick(original.get('fe/FRONTEND')));
    expect(pick(mine.get('be/BACKEND'))).toEqual(pick(original.get('be/BACKEND')));
    expect(pick(mine.get('fe/FRONTEND'))).toEqual(['0', '3', '12', '12', '3', '0']);
  });
});
