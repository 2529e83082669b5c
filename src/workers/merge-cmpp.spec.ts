import { describe, expect, it } from 'vitest';
import {
  ACCOUNTS_LIMIT,
  CmppAccounts,
  CmppCounters,
  cmppView,
  OVERFLOW_ACCOUNT,
} from '../runtime/cmpp-stats.js';
import { mergeCmpp, mergeCmppAccounts } from './merge-cmpp.js';
import { mergeStats } from './merge.js';
import type { FrontendStats, RuntimeStats } from '../runtime/types.js';

function counters(latencies: number[], submits: number): CmppCounters {
  const c = new CmppCounters();
  c.sessions = 1;
  for (const ms of latencies) c.submitLatency(ms);
  for (let i = 0; i < submits; i++) c.submitResult(0);
  return c;
}

describe('CMPP counters over workers', () => {
  it('sums every number and recomputes p50/p99 from the summed histogram', () => {
    const a = cmppView(counters([1, 1, 1, 1], 4), { up: 1, down: 0 });
    const b = cmppView(counters([900, 900, 900, 900, 900, 900], 6), { up: 2, down: 3 });
    const merged = mergeCmpp([a, undefined, b])!;
    expect(merged.sessions).toBe(2);
    expect(merged.submitResults.ok).toBe(10);
    expect(merged.outstanding).toEqual({ up: 3, down: 3 });
    expect(merged.latency.counts.reduce((x, y) => x + y, 0)).toBe(10);
    expect(merged.latency.sumMs).toBe(4 + 5400);
    // 6 of 10 samples are slow: the median is among them, as in one process that saw all ten.
    const all = cmppView(counters([1, 1, 1, 1, 900, 900, 900, 900, 900, 900], 10), { up: 3, down: 3 });
    expect([merged.latency.p50, merged.latency.p99]).toEqual([all.latency.p50, all.latency.p99]);
    expect(mergeCmpp([undefined, undefined])).toBeUndefined();
  });

  it('sums accounts by name, keeps them sorted with the overflow row last, bounded', () => {
    const one = new CmppAccounts(2);
    const two = new CmppAccounts(2);
    one.get('b').sessions = 1;
    one.get('a').sessions = 2;
    // Logged in: a full table keeps their rows (it gives up only rows of accounts no gateway let in).
    one.get('b').connectResult(0);
    one.get('a').connectResult(0);
    one.get('z').sessions = 5; // over this worker's limit: its overflow row
    two.get('a').sessions = 3;
    two.get('c').sessions = 4;
    const rows = mergeCmppAccounts([one.view(new Map()), undefined, two.view(new Map())])!;
    expect(rows.map((r) => [r.account, r.sessions])).toEqual([
      ['a', 5],
      ['b', 1],
      ['c', 4],
      ['*other*', 5],
    ]);
    expect(mergeCmppAccounts([undefined])).toBeUndefined();
  });

  it("keeps every worker's accounts a gateway let in, when another worker's table is full of names no gateway did", () => {
    const flooded = new CmppAccounts();
    for (let i = 0; i < ACCOUNTS_LIMIT; i++) flooded.get(String(100_000 + i)).connectResult(2);
    const other = new CmppAccounts();
    other.get('900001').connectResult(0);
    other.get('900002').connectResult(0);
    other.get('100000').connectResult(0); // also named in the flood: summed into one row
    const rows = mergeCmppAccounts([flooded.view(new Map()), other.view(new Map())])!;
    expect(rows.filter((r) => r.account !== OVERFLOW_ACCOUNT)).toHaveLength(ACCOUNTS_LIMIT);
    const row = (account: string) => rows.find((r) => r.account === account);
    expect(row('900001')?.connectStatus).toEqual({ 0: 1 });
    expect(row('900002')?.connectStatus).toEqual({ 0: 1 });
    expect(row('100000')?.connectStatus).toEqual({ 0: 1, 2: 1 });
    // Two of the flood's names did not fit: the overflow row counts them.
    expect(row(OVERFLOW_ACCOUNT)?.connectStatus).toEqual({ 2: 2 });
  });

  it("takes an account's version from the worker that saw its last CONNECT, in any order", () => {
    const older = new CmppAccounts(10);
    const newer = new CmppAccounts(10);
    older.get('a').versionByte = 0x20;
    newer.get('a').versionByte = 0x30;
    const [o, n] = [older.view(new Map()), newer.view(new Map())];
    o[0].lastConnectAt = 1000;
    n[0].lastConnectAt = 2000;
    for (const lists of [
      [o, n],
      [n, o],
    ])
      expect(mergeCmppAccounts(lists)![0]).toMatchObject({ version: '3.0', lastConnectAt: 2000 });
  });
});

describe('mergeStats with CMPP figures', () => {
  const frontend = (submits: number) =>
    ({
      name: 'sms',
      status: 'OPEN',
      scur: 1,
      smax: 1,
      slim: 10,
      stot: 1,
      bin: 0,
      bout: 0,
      denied: 0,
      noServer: 0,
      rate: 0,
      rate_max: 0,
      cmpp: cmppView(counters([], submits), { up: 0, down: 0 }),
    }) as unknown as FrontendStats;
  const worker = (submits: number) =>
    ({ at: 0, uptime: 0, frontends: [frontend(submits)], backends: [] }) as unknown as RuntimeStats;

  it('counts each worker once, for any number of workers', () => {
    const health = { at: 0, uptime: 0, frontends: [], backends: [] } as unknown as RuntimeStats;
    const merged = mergeStats(health, [worker(2), worker(4), worker(6)], [], 0);
    const cmpp = merged.frontends[0].cmpp!;
    expect(cmpp.sessions).toBe(3);
    expect(cmpp.submitResults.ok).toBe(12);
    expect(merged.frontends[0].scur).toBe(3);
  });
});
