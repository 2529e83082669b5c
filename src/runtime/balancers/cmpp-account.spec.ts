import { describe, expect, it } from 'vitest';
import type { BalancedServer } from './balancer.js';
import { CmppAccountBalancer } from './cmpp-account.js';
import { ConsistentSourceBalancer } from './source-hash.js';

function servers(count: number): BalancedServer[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `s${index + 1}`,
    weight: 1,
    index,
    sessions: 0,
  }));
}
const options = (list: BalancedServer[]) => ({ hashType: 'consistent' as const, servers: list });
const accounts = Array.from({ length: 5000 }, (_, i) => `9${String(i).padStart(5, '0')}`);

describe('cmpp-account', () => {
  it('keeps every connection of one SP account on one server whatever its source IP', () => {
    const list = servers(4);
    const balancer = new CmppAccountBalancer(options(list));
    const chosen = new Set<string>();
    for (let i = 1; i < 50; i++)
      chosen.add(balancer.elect(list, { clientAddress: `127.0.0.${i}`, account: '901234' })!.name);
    expect(chosen.size).toBe(1);
  });

  it('falls back to the client IP, choosing as `source` would', () => {
    const list = servers(4);
    const byAccount = new CmppAccountBalancer(options(list));
    const bySource = new ConsistentSourceBalancer(options(list));
    for (let i = 0; i < 200; i++) {
      const context = { clientAddress: `10.1.${i >> 8}.${i & 255}` };
      expect(byAccount.elect(list, context)).toBe(bySource.elect(list, context));
      expect(byAccount.elect(list, { ...context, account: '' })).toBe(bySource.elect(list, context));
    }
  });

  it('spreads accounts and moves only the accounts of a removed server', () => {
    const list = servers(5);
    const balancer = new CmppAccountBalancer(options(list));
    const pick = (candidates: BalancedServer[]) =>
      accounts.map((account) => balancer.elect(candidates, { clientAddress: '10.0.0.1', account })!.name);
    const before = pick(list);
    for (const server of list) {
      const share = before.filter((n) => n === server.name).length / accounts.length;
      expect(Math.abs(share - 0.2) / 0.2).toBeLessThan(0.25);
    }
    const after = pick(list.filter((s) => s.name !== 's2'));
    const moved = before.filter((name, i) => name !== after[i]);
    expect(moved.every((name) => name === 's2')).toBe(true);
    expect(moved.length / accounts.length).toBeLessThanOrEqual((1 / 5) * 1.5);
  });

  it('is deterministic across instances', () => {
    const a = new CmppAccountBalancer(options(servers(3)));
    const b = new CmppAccountBalancer(options(servers(3)));
    const list = servers(3);
    for (const account of accounts.slice(0, 300)) {
      expect(a.elect(list, { clientAddress: '10.0.0.1', account })!.name).toBe(
        b.elect(list, { clientAddress: '10.0.0.2', account })!.name,
      );
    }
  });
});
