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
  const SUBMIT = 2; // slot of `submit` in CmppCounters.up
  const names = (accounts: CmppAccounts) => accounts.view(new Map()).map((r) => r.account);

  it('gives a new account the row of the oldest account never seen logging in nor submitting', () => {
    const accounts = new CmppAccounts(3);
    accounts.get('a').connectResult(0); // logged in
    accounts.get('b').connectResult(3); // refused: never logged in
    accounts.get('c').up[SUBMIT]++; // submitted
    accounts.get('d').sessions++;
    expect(names(accounts)).toEqual(['a', 'c', 'd']);
    expect(accounts.dropped).toBe(1);
    accounts.get('d').connectResult(0);
    // Every row proven: the overflow row, as before.
    accounts.get('e').sessions++;
    expect(names(accounts)).toEqual(['a', 'c', 'd', OVERFLOW_ACCOUNT]);
  });

  it('a flood of 100,000 names never logging in keeps the real accounts and leaves room for new real ones', () => {
    const accounts = new CmppAccounts(1000);
    for (let i = 0; i < 10; i++) accounts.get(`real${i}`).connectResult(0);
    for (let i = 0; i < 100_000; i++) accounts.get(String(100_000 + i)).sessions++;
    expect(accounts.size).toBe(1000);
    const late = accounts.get('late');
    late.connectResult(0);
    const rows = accounts.view(new Map());
    expect(rows.map((r) => r.account)).toEqual(
      expect.arrayContaining(['late', ...Array.from({ length: 10 }, (_, i) => `real${i}`)]),
    );
    expect(rows.find((r) => r.account === OVERFLOW_ACCOUNT)).toBeUndefined();
    expect(rows.find((r) => r.account === 'late')?.connectStatus).toEqual({ 0: 1 });
    // The queue of candidates stays bounded by the table, not by the names seen.
    expect((accounts as unknown as { unproven: string[]; head: number }).unproven.length).toBeLessThanOrEqual(
      2 * 1000 + 1024,
    );
  });
});
