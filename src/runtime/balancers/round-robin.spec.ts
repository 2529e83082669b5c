import { describe, expect, it } from 'vitest';
import type { BalancedServer } from './balancer.js';
import { RoundRobinBalancer } from './round-robin.js';

const ctx = { clientAddress: '10.0.0.1' };

function server(name: string, weight: number, index: number): BalancedServer {
  return { name, weight, index, sessions: 0 };
}

function sequence(balancer: RoundRobinBalancer, candidates: BalancedServer[], count: number): string {
  return Array.from({ length: count }, () => balancer.elect(candidates, ctx)!.name).join(' ');
}

describe('roundrobin (smooth weighted)', () => {
  it('interleaves weights 5,1,1 as a a b a c a a, then repeats', () => {
    const list = [server('a', 5, 0), server('b', 1, 1), server('c', 1, 2)];
    const balancer = new RoundRobinBalancer();
    expect(sequence(balancer, list, 7)).toBe('a a b a c a a');
    expect(sequence(balancer, list, 7)).toBe('a a b a c a a');
  });

  it('alternates equal weights', () => {
    const list = [server('a', 1, 0), server('b', 1, 1), server('c', 1, 2)];
    expect(sequence(new RoundRobinBalancer(), list, 6)).toBe('a b c a b c');
  });

  it('returns undefined with no candidates', () => {
    expect(new RoundRobinBalancer().elect([], ctx)).toBeUndefined();
  });

  it('keeps proportions when the candidate set changes (state keyed by name)', () => {
    const a = server('a', 2, 0);
    const b = server('b', 1, 1);
    const c = server('c', 1, 2);
    const balancer = new RoundRobinBalancer();
    sequence(balancer, [a, b, c], 5);
    // c goes DOWN: the remaining two keep their 2:1 ratio over any full cycle.
    const counts = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (let i = 0; i < 300; i++) counts[balancer.elect([a, b], ctx)!.name]++;
    expect(counts).toEqual({ a: 200, b: 100, c: 0 });
    // New objects with the same names (as after an apply) continue the same rotation.
    const again = [server('a', 2, 0), server('b', 1, 1), server('c', 1, 2)];
    const tally = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (let i = 0; i < 400; i++) tally[balancer.elect(again, ctx)!.name]++;
    expect(Math.abs(tally.a - 200)).toBeLessThanOrEqual(2);
    expect(Math.abs(tally.b - 100)).toBeLessThanOrEqual(2);
    expect(Math.abs(tally.c - 100)).toBeLessThanOrEqual(2);
  });

  it('is deterministic: two balancers fed the same calls give the same sequence', () => {
    const list = [server('a', 3, 0), server('b', 7, 1), server('c', 2, 2)];
    expect(sequence(new RoundRobinBalancer(), list, 50)).toBe(sequence(new RoundRobinBalancer(), list, 50));
  });
});
