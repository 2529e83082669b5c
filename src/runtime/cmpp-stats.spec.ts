import { describe, expect, it } from 'vitest';
import { CmppAccounts, OVERFLOW_ACCOUNT, VIEW_CACHE_FROM, VIEW_CACHE_MS } from './cmpp-stats.js';

describe('CmppAccounts.view', () => {
  it('builds a small table fresh on every call', () => {
    const accounts = new CmppAccounts();
    accounts.get('900001').submitResult(0);
    const first = accounts.view(new Map(), 1000);
    accounts.get('900001').submitResult(0);
    const second = accounts.view(new Map(), 1001);
    expect(second).not.toBe(first);
    expect(second[0].submitResults.ok).toBe(2);
  });

  it('builds a big table at most once per VIEW_CACHE_MS (a polling viewer cannot keep the relay busy)', () => {
    const accounts = new CmppAccounts();
    for (let i = 0; i < VIEW_CACHE_FROM; i++) accounts.get(String(100000 + i));
    const first = accounts.view(new Map(), 10_000);
    expect(first).toHaveLength(VIEW_CACHE_FROM);
    accounts.get('100000').submitResult(0);
    expect(accounts.view(new Map(), 10_000 + VIEW_CACHE_MS - 1)).toBe(first);
    const later = accounts.view(new Map(), 10_000 + VIEW_CACHE_MS);
    expect(later).not.toBe(first);
    expect(later[0].submitResults.ok).toBe(1);
    // A clock that went back never serves a table from the future.
    expect(accounts.view(new Map(), 5_000)).not.toBe(later);
  });
});

describe('CmppAccounts when full', () => {
  const CONNECT_RESP = 1; // slot of `connectResp` in CmppCounters.up
  const names = (accounts: CmppAccounts) => accounts.view(new Map()).map((r) => r.account);

  it('gives a new account the row of the oldest account no gateway let in', () => {
    const accounts = new CmppAccounts(3);
    accounts.get('a').connectResult(0); // let in
    accounts.get('b').connectResult(3); // refused
    // "Let in" by a CONNECT_RESP the client sent itself (counted both ways): not a gateway's word.
    const forged = accounts.get('c');
    forged.connectResult(0);
    forged.up[CONNECT_RESP]++;
    forged.up[2]++; // and a SUBMIT: a client sends one after any CONNECT
    accounts.get('d');
    expect(names(accounts)).toEqual(['a', 'c', 'd']);
    accounts.get('e');
    expect(names(accounts)).toEqual(['a', 'd', 'e']);
    expect(accounts.dropped).toBe(2);
    accounts.get('d').connectResult(0);
    accounts.get('e').connectResult(0);
    // Every row let in: the overflow row, as before.
    accounts.get('f').sessions++;
    expect(names(accounts)).toEqual(['a', 'd', 'e', OVERFLOW_ACCOUNT]);
  });

  it('a flood of 100,000 names no gateway lets in keeps the real accounts and leaves room for new real ones', () => {
    const accounts = new CmppAccounts(1000);
    for (let i = 0; i < 10; i++) accounts.get(`real${i}`).connectResult(0);
    for (let i = 0; i < 100_000; i++) accounts.get(String(100_000 + i)).connectResult(2);
    expect(accounts.size).toBe(1000);
    accounts.get('late').connectResult(0);
    const rows = accounts.view(new Map());
    expect(rows.map((r) => r.account)).toEqual(
      expect.arrayContaining(['late', ...Array.from({ length: 10 }, (_, i) => `real${i}`)]),
    );
    expect(rows.find((r) => r.account === OVERFLOW_ACCOUNT)).toBeUndefined();
    expect(rows.find((r) => r.account === 'late')?.connectStatus).toEqual({ 0: 1 });
    // One queue entry per row, whatever the names seen.
    const internals = accounts as unknown as { queue: string[]; head: number };
    expect(internals.queue.length - internals.head).toBe(1000);
    expect(internals.queue.length).toBeLessThanOrEqual(2 * 1000 + 1024);
  });
});
