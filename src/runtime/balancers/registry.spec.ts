import { describe, expect, it } from 'vitest';
import type { BalanceAlgorithm } from '../../schema/snapshot.js';
import type { BalancedServer } from './balancer.js';
import { CmppAccountBalancer } from './cmpp-account.js';
import { FirstBalancer } from './first.js';
import { LeastConnBalancer } from './least-conn.js';
import { createBalancer, isHashed } from './registry.js';
import { RoundRobinBalancer } from './round-robin.js';
import { ConsistentSourceBalancer, MapBasedSourceBalancer } from './source-hash.js';

const list: BalancedServer[] = [
  { name: 'a', weight: 1, index: 0, sessions: 0 },
  { name: 'b', weight: 2, index: 1, sessions: 0 },
  { name: 'c', weight: 1, index: 2, sessions: 0 },
];
const consistent = { hashType: 'consistent' as const, servers: list };
const mapBased = { hashType: 'map-based' as const, servers: list };

describe('balancer registry', () => {
  it('maps each algorithm name to its balancer', () => {
    expect(createBalancer('source', consistent)).toBeInstanceOf(ConsistentSourceBalancer);
    expect(createBalancer('source', mapBased)).toBeInstanceOf(MapBasedSourceBalancer);
    expect(createBalancer('roundrobin', consistent)).toBeInstanceOf(RoundRobinBalancer);
    expect(createBalancer('leastconn', consistent)).toBeInstanceOf(LeastConnBalancer);
    expect(createBalancer('first', consistent)).toBeInstanceOf(FirstBalancer);
    expect(createBalancer('cmpp-account', mapBased)).toBeInstanceOf(CmppAccountBalancer);
  });

  it('rejects an unknown algorithm', () => {
    expect(() => createBalancer('random' as BalanceAlgorithm, consistent)).toThrow(/random/);
  });

  it('tells hashed algorithms apart', () => {
    expect(isHashed('source')).toBe(true);
    expect(isHashed('cmpp-account')).toBe(true);
    expect(isHashed('roundrobin')).toBe(false);
    expect(isHashed('leastconn')).toBe(false);
    expect(isHashed('first')).toBe(false);
  });

  it('builds balancers that agree for the same IP when given the same options', () => {
    for (const hashType of ['consistent', 'map-based'] as const) {
      const one = createBalancer('source', { hashType, servers: list });
      const two = createBalancer('source', { hashType, servers: structuredClone(list) });
      for (let i = 0; i < 500; i++) {
        const context = { clientAddress: `192.168.${i >> 8}.${i & 255}` };
        expect(one.elect(list, context)!.name).toBe(two.elect(list, context)!.name);
      }
    }
  });

  it('never returns a server that is not among the candidates', () => {
    for (const algorithm of ['source', 'roundrobin', 'leastconn', 'first', 'cmpp-account'] as const) {
      const balancer = createBalancer(algorithm, consistent);
      const candidates = list.filter((s) => s.name !== 'b');
      for (let i = 0; i < 100; i++) {
        expect(candidates).toContain(balancer.elect(candidates, { clientAddress: `10.0.0.${i}` }));
      }
    }
  });
});
