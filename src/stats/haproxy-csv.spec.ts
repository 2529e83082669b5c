import { describe, expect, it } from 'vitest';
import type { BackendStats, FrontendStats, RuntimeStats, ServerStats } from '../runtime/types.js';
import { HAPROXY_26_COLUMNS, HAPROXY_26_HEADER } from './haproxy-columns.js';
import { renderShowStat } from './haproxy-csv.js';

// Rows printed by Debian's haproxy 2.6.12 for this setup (TCP mode):
//   frontend fe1: maxconn 100, rejects 127.0.0.9 (one refused connection), 4 sessions, 3 live
//   backend be1 roundrobin: s1 check UP; s2 weight 3 maxconn 10 check, drained with 2 live sessions;
//     s3 no check, in MAINT with 1 live session; s4 check backup UP; s5 check DOWN (refused)
//   backend be2: t1 check DOWN, no frontend
const HAPROXY_ROWS: Record<string, string> = {
  'fe1/FRONTEND':
    'fe1,FRONTEND,,,3,5,100,4,11,11,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,4,,,,,,,,,,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,tcp,,0,5,5,,1,0,0,,,,,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,',
  'be1/s1':
    'be1,s1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,1,1,4,1,,1,3,1,,0,,2,0,,0,L4OK,,0,,,,,,,,,,,0,0,,,,,-1,,,0,0,0,0,,,,Layer4 check passed,,2,3,4,,,,127.0.0.1:42001,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,',
  'be1/s2':
    'be1,s2,0,0,2,3,10,3,11,11,,0,,0,0,0,0,DRAIN,3,1,0,0,0,1,0,,1,3,2,,3,,2,0,,3,L4OK,,0,,,,,,,,,,,0,0,,,,,2,,,0,0,0,167,,,,Layer4 check passed,,2,3,4,,,,127.0.0.1:42002,,tcp,,,,,,,,0,3,0,,,0,,0,0,0,501,0,0,0,0,1,3,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,',
  'be1/s3':
    'be1,s3,0,0,1,1,,1,0,0,,0,,0,0,0,0,MAINT,1,1,0,,,1,,,1,3,3,,1,,2,0,,1,,,,,,,,,,,,,,0,0,,,,,2,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:42003,,tcp,,,,,,,,0,1,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,',
  'be1/s5':
    'be1,s5,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,4,4,,1,3,5,,0,,2,0,,0,L4CON,,0,,,,,,,,,,,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,127.0.0.1:42005,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,',
  'be1/BACKEND':
    'be1,BACKEND,0,0,3,4,10,4,11,11,0,0,,0,0,0,0,UP,1,1,1,,0,5,0,,1,3,0,,4,,1,0,,4,,,,,,,,,,,,,,0,0,0,0,0,0,2,,,0,0,0,126,,,,,,,,,,,,,,tcp,roundrobin,,,,,,,0,4,0,,,,,0,0,0,501,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,',
  'be2/BACKEND':
    'be2,BACKEND,0,0,0,0,1,0,0,0,0,0,,0,0,0,0,DOWN,0,0,0,,1,3,3,,1,4,0,,0,,1,0,,0,,,,,,,,,,,,,,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,tcp,roundrobin,,,,,,,0,0,0,,,,,0,0,0,0,0,,,,,0,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,',
  // A moment later, s1..s4 refused: s1 going down, s2 going down while drained.
  'be1/s1 going down':
    'be1,s1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/3,1,1,0,3,1,5,1,,1,3,1,,0,,2,0,,0,L4CON,,0,,,,,,,,,,,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,2,,,,127.0.0.1:42001,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,',
};

/** Columns whose values legitimately differ from HAProxy's (the empty/filled pattern still matches):
 *  iid: HAProxy numbers its internal proxies first; ttime/ttime_max: Tether does not time sessions;
 *  need_conn_est: HAProxy's idle-pool estimate for HTTP reuse, meaningless for TCP, Tether prints 0;
 *  conn_rate_max: HAProxy meters raw accepts, Tether only sessions (refused connections are not in the meter). */
const VALUES_MAY_DIFFER = new Set(['iid', 'ttime', 'ttime_max', 'need_conn_est', 'conn_rate_max']);

const AT = 1_700_000_000_000;

function server(over: Partial<ServerStats> & Pick<ServerStats, 'name' | 'port'>): ServerStats {
  return {
    backend: 'be1',
    address: '127.0.0.1',
    status: 'UP',
    health: 'UP',
    adminState: 'ready',
    checked: true,
    weight: 1,
    backup: false,
    scur: 0,
    smax: 0,
    slim: 0,
    stot: 0,
    bin: 0,
    bout: 0,
    econ: 0,
    wretr: 0,
    wredis: 0,
    lbtot: 0,
    chkfail: 0,
    chkdown: 0,
    lastchg: 0,
    lastChangeAt: AT,
    downtime: 0,
    rate: 0,
    rate_max: 0,
    check_status: 'L4OK',
    check_duration: 0,
    check_desc: '',
    lastCheckAt: AT,
    oldestSessionAge: 0,
    ...over,
  };
}

function backend(over: Partial<BackendStats> & Pick<BackendStats, 'name' | 'servers'>): BackendStats {
  return {
    balance: 'roundrobin',
    status: 'UP',
    scur: 0,
    smax: 0,
    stot: 0,
    bin: 0,
    bout: 0,
    econ: 0,
    wretr: 0,
    wredis: 0,
    lbtot: 0,
    chkdown: 0,
    lastchg: 0,
    downtime: 0,
    rate: 0,
    rate_max: 0,
    act: 0,
    bck: 0,
    ...over,
  };
}

const fe1: FrontendStats = {
  name: 'fe1',
  backend: 'be1',
  status: 'OPEN',
  bind: { address: '127.0.0.1', port: 41001 },
  binds: [{ address: '127.0.0.1', port: 41001 }],
  scur: 3,
  smax: 5,
  slim: 100,
  stot: 4,
  bin: 11,
  bout: 11,
  denied: 1,
  noServer: 0,
  rate: 0,
  // HAProxy's rate_max counts sessions (4), conn_rate_max connections (5); Tether meters sessions.
  rate_max: 4,
};

const refused = { check_status: 'L4CON', check_desc: 'Connection refused' } as const;

function haproxyLikeStats(): RuntimeStats {
  return {
    at: AT,
    uptime: 10,
    frontends: [fe1],
    backends: [
      backend({
        name: 'be1',
        scur: 3,
        smax: 4,
        stot: 4,
        bin: 11,
        bout: 11,
        lbtot: 4,
        lastchg: 5,
        rate_max: 4,
        act: 1,
        bck: 1,
        servers: [
          server({ name: 's1', port: 42001, chkfail: 1, chkdown: 1, lastchg: 4, downtime: 1 }),
          server({
            name: 's2',
            port: 42002,
            adminState: 'drain',
            weight: 3,
            slim: 10,
            scur: 2,
            smax: 3,
            stot: 3,
            bin: 11,
            bout: 11,
            lbtot: 3,
            rate_max: 3,
            lastchg: 1,
          }),
          server({
            name: 's3',
            port: 42003,
            checked: false,
            adminState: 'maint',
            status: 'MAINT',
            scur: 1,
            smax: 1,
            stot: 1,
            lbtot: 1,
            rate_max: 1,
            lastchg: 1,
            check_status: '',
            check_duration: -1,
          }),
          server({ name: 's4', port: 42004, backup: true, lastchg: 5 }),
          server({
            name: 's5',
            port: 42005,
            status: 'DOWN',
            health: 'DOWN',
            chkfail: 1,
            chkdown: 1,
            lastchg: 4,
            downtime: 4,
            ...refused,
          }),
        ],
      }),
      backend({
        name: 'be2',
        status: 'DOWN',
        chkdown: 1,
        lastchg: 3,
        downtime: 3,
        servers: [
          server({
            backend: 'be2',
            name: 't1',
            port: 42009,
            status: 'DOWN',
            health: 'DOWN',
            chkfail: 1,
            chkdown: 1,
            lastchg: 3,
            downtime: 3,
            ...refused,
          }),
        ],
      }),
    ],
  };
}

const lastSessionAt = new Map([
  ['be1/s2', AT - 2000],
  ['be1/s3', AT - 2500],
]);

function rowsByKey(csv: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of csv.split('\n').slice(1)) {
    if (!line) continue;
    const fields = line.split(',');
    rows.set(`${fields[0]}/${fields[1]}`, fields);
  }
  return rows;
}

function expectSameRow(ours: string[] | undefined, theirs: string) {
  expect(ours).toBeDefined();
  const expected = theirs.split(',');
  expect(ours).toHaveLength(expected.length);
  const differences = expected
    .map((value, i) => ({ column: HAPROXY_26_COLUMNS[i] ?? '(after last)', ours: ours![i], haproxy: value }))
    .filter((d) => d.ours !== d.haproxy)
    .filter((d) => !(VALUES_MAY_DIFFER.has(d.column) && d.ours !== '' && d.haproxy !== ''));
  expect(differences).toEqual([]);
}

describe('renderShowStat', () => {
  const csv = renderShowStat(haproxyLikeStats(), { lastSessionAt });
  const rows = rowsByKey(csv);

  it('starts with the HAProxy 2.6 header, trailing comma included', () => {
    expect(csv.split('\n')[0]).toBe(HAPROXY_26_HEADER);
    expect(HAPROXY_26_COLUMNS).toHaveLength(128);
  });

  it('orders rows like HAProxy: frontends, then each backend’s servers followed by its BACKEND row', () => {
    expect([...rows.keys()]).toEqual([
      'fe1/FRONTEND',
      'be1/s1',
      'be1/s2',
      'be1/s3',
      'be1/s4',
      'be1/s5',
      'be1/BACKEND',
      'be2/t1',
      'be2/BACKEND',
    ]);
  });

  for (const key of ['fe1/FRONTEND', 'be1/s1', 'be1/s2', 'be1/s3', 'be1/s5', 'be1/BACKEND', 'be2/BACKEND']) {
    it(`prints ${key} as HAProxy does`, () => expectSameRow(rows.get(key), HAPROXY_ROWS[key]!));
  }

  it('prints a checked server going down as "UP 1/3" with HAProxy’s health counter', () => {
    const stats = haproxyLikeStats();
    const s1 = stats.backends[0]!.servers[0]!;
    Object.assign(s1, { status: 'UP 1/3', chkfail: 3, lastchg: 5, ...refused });
    expectSameRow(rowsByKey(renderShowStat(stats)).get('be1/s1'), HAPROXY_ROWS['be1/s1 going down']!);
  });

  it('says DRAIN 2/3 for a drained server going down, and DOWN 1/2 for one coming back', () => {
    const stats = haproxyLikeStats();
    const [s1, s2] = stats.backends[0]!.servers;
    Object.assign(s2!, { status: 'UP 2/3', ...refused });
    Object.assign(s1!, { status: 'DOWN 1/2', health: 'DOWN' });
    const out = rowsByKey(renderShowStat(stats));
    const column = (name: string) => HAPROXY_26_COLUMNS.indexOf(name as never);
    expect(out.get('be1/s2')![column('status')]).toBe('DRAIN 2/3');
    expect(out.get('be1/s2')![column('check_health')]).toBe('3');
    expect(out.get('be1/s1')![column('status')]).toBe('DOWN 1/2');
    expect(out.get('be1/s1')![column('check_health')]).toBe('1');
  });

  it('prints a stopped or unbindable frontend as STOP and a full one as FULL', () => {
    const stats = haproxyLikeStats();
    const failed: FrontendStats = { ...fe1, name: 'fe2', status: 'FAILED', scur: 0 };
    const full: FrontendStats = { ...fe1, name: 'fe3', scur: 100 };
    stats.frontends.push(failed, full);
    const out = rowsByKey(renderShowStat(stats));
    expect(out.get('fe2/FRONTEND')![17]).toBe('STOP');
    expect(out.get('fe3/FRONTEND')![17]).toBe('FULL');
  });

  it('brackets IPv6 server addresses and quotes text that contains a comma', () => {
    const stats = haproxyLikeStats();
    Object.assign(stats.backends[0]!.servers[4]!, { address: '::1', check_desc: 'refused, twice' });
    const line = renderShowStat(stats)
      .split('\n')
      .find((l) => l.startsWith('be1,s5,'))!;
    expect(line).toContain(',[::1]:42005,');
    expect(line).toContain(',"refused, twice",');
  });
});
