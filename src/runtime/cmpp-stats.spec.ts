import { describe, expect, it } from 'vitest';
import { CmppAccounts, VIEW_CACHE_FROM, VIEW_CACHE_MS } from './cmpp-stats.js';

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
