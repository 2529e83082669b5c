import { describe, expect, it } from 'vitest';
import type { BalancedServer, Balancer, BalancerOptions } from './balancer.js';
import { ConsistentSourceBalancer, MapBasedSourceBalancer } from './source-hash.js';

const CLIENTS = 10_000;
const ips = Array.from({ length: CLIENTS }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

function servers(weights: number[]): BalancedServer[] {
  return weights.map((weight, index) => ({ name: `s${index + 1}`, weight, index, sessions: 0 }));
}

function optionsFor(
  list: BalancedServer[],
  hashType: BalancerOptions['hashType'] = 'consistent',
): BalancerOptions {
  return { hashType, servers: list.map(({ name, weight, index }) => ({ name, weight, index })) };
}

function assign(balancer: Balancer, candidates: BalancedServer[]): string[] {
  return ips.map((ip) => balancer.elect(candidates, { clientAddress: ip })!.name);
}

function shares(assignment: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of assignment) counts.set(name, (counts.get(name) ?? 0) + 1);
  return new Map([...counts].map(([name, count]) => [name, count / assignment.length]));
}

describe('source, hashType consistent', () => {
  it('returns undefined with no candidates and otherwise one of the candidate objects', () => {
    const list = servers([1, 1, 1]);
    const balancer = new ConsistentSourceBalancer(optionsFor(list));
    expect(balancer.elect([], { clientAddress: '10.0.0.1' })).toBeUndefined();
    const chosen = balancer.elect(list, { clientAddress: '10.0.0.1' });
    expect(list).toContain(chosen);
  });

  it('chooses the same server for the same IP in two independently built balancers', () => {
    const list = servers([1, 2, 1, 3]);
    const a = new ConsistentSourceBalancer(optionsFor(list));
    const b = new ConsistentSourceBalancer(optionsFor(servers([1, 2, 1, 3])));
    expect(assign(a, list)).toEqual(assign(b, servers([1, 2, 1, 3])));
  });

  it('spreads equal-weight servers evenly', () => {
    const list = servers([1, 1, 1, 1, 1]);
    const got = shares(assign(new ConsistentSourceBalancer(optionsFor(list)), list));
    for (const server of list) expect(got.get(server.name)).toBeCloseTo(1 / 5, 1);
    for (const share of got.values()) expect(Math.abs(share - 0.2) / 0.2).toBeLessThan(0.25);
  });

  it('gives each server a share proportional to its weight (within 25 %)', () => {
    const list = servers([1, 2, 3, 4]);
    const got = shares(assign(new ConsistentSourceBalancer(optionsFor(list)), list));
    for (const server of list) {
      const expected = server.weight / 10;
      expect(Math.abs(got.get(server.name)! - expected) / expected).toBeLessThan(0.25);
    }
  });

  it('moves only the clients of a server that stops being a candidate (about 1/N of them)', () => {
    const list = servers([1, 1, 1, 1, 1]);
    const balancer = new ConsistentSourceBalancer(optionsFor(list));
    const before = assign(balancer, list);
    for (const gone of list) {
      const after = assign(
        balancer,
        list.filter((s) => s !== gone),
      );
      let moved = 0;
      for (let i = 0; i < CLIENTS; i++) {
        if (before[i] === after[i]) continue;
        moved++;
        expect(before[i]).toBe(gone.name);
      }
      expect(moved).toBeGreaterThan(0);
      expect(moved / CLIENTS).toBeLessThanOrEqual((1 / list.length) * 1.5);
    }
  });

  it('moves only the removed server clients when a server is removed from the config', () => {
    const list = servers([1, 1, 1, 1, 1, 1]);
    const before = assign(new ConsistentSourceBalancer(optionsFor(list)), list);
    const remaining = list.filter((s) => s.name !== 's3');
    const after = assign(new ConsistentSourceBalancer(optionsFor(remaining)), remaining);
    let moved = 0;
    for (let i = 0; i < CLIENTS; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      expect(before[i]).toBe('s3');
    }
    expect(moved / CLIENTS).toBeLessThanOrEqual((1 / list.length) * 1.5);
  });

  it('sends only about 1/N of clients to an added server, and nobody else moves', () => {
    const list = servers([1, 1, 1, 1]);
    const before = assign(new ConsistentSourceBalancer(optionsFor(list)), list);
    const grown = servers([1, 1, 1, 1, 1]);
    const after = assign(new ConsistentSourceBalancer(optionsFor(grown)), grown);
    let moved = 0;
    for (let i = 0; i < CLIENTS; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      expect(after[i]).toBe('s5');
    }
    expect(moved).toBeGreaterThan(0);
    expect(moved / CLIENTS).toBeLessThanOrEqual((1 / grown.length) * 1.5);
  });

  it('still answers deterministically for a candidate missing from the options', () => {
    const balancer = new ConsistentSourceBalancer(optionsFor(servers([1, 1])));
    const stranger: BalancedServer = { name: 'late', weight: 1, index: 7, sessions: 0 };
    expect(balancer.elect([stranger], { clientAddress: '10.0.0.9' })).toBe(stranger);
  });
});

describe('source, hashType map-based', () => {
  it('is deterministic across instances', () => {
    const list = servers([1, 1, 2]);
    expect(assign(new MapBasedSourceBalancer(optionsFor(list, 'map-based')), list)).toEqual(
      assign(new MapBasedSourceBalancer(), servers([1, 1, 2])),
    );
  });

  it('splits clients in proportion to weight', () => {
    const list = servers([1, 3]);
    const got = shares(assign(new MapBasedSourceBalancer(), list));
    expect(got.get('s1')).toBeCloseTo(0.25, 1);
    expect(got.get('s2')).toBeCloseTo(0.75, 1);
  });

  it('does not depend on the order candidates are passed in', () => {
    const list = servers([2, 1, 1]);
    const balancer = new MapBasedSourceBalancer();
    expect(assign(balancer, [...list].reverse())).toEqual(assign(balancer, list));
  });

  it('remaps far more than 1/N of clients when one server leaves (why consistent is the default)', () => {
    const list = servers([1, 1, 1, 1, 1]);
    const balancer = new MapBasedSourceBalancer();
    const before = assign(balancer, list);
    const after = assign(
      balancer,
      list.filter((s) => s.name !== 's5'),
    );
    const moved = before.filter((name, i) => name !== after[i]).length / CLIENTS;
    expect(moved).toBeGreaterThan(0.5);
  });
});
