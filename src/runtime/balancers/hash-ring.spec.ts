import { describe, expect, it } from 'vitest';
import type { BalancedServer } from './balancer.js';
import { hash32 } from './hash.js';
import { HashRing, POINTS_PER_WEIGHT } from './hash-ring.js';

/** The documented construction written the obvious way: weight x POINTS_PER_WEIGHT points at hash32(`${name}#${i}`). */
function referenceRing(servers: BalancedServer[]) {
  const points = servers
    .flatMap((s, slot) =>
      Array.from({ length: s.weight * POINTS_PER_WEIGHT }, (_, i) => ({ h: hash32(`${s.name}#${i}`), slot })),
    )
    .sort((a, b) => a.h - b.h || a.slot - b.slot);
  return (hash: number, candidates: BalancedServer[]): string | undefined => {
    const allowed = new Set(candidates.map((c) => c.name));
    const start = points.findIndex((p) => p.h >= hash);
    for (let step = 0; step < points.length; step++) {
      const point = points[((start < 0 ? 0 : start) + step) % points.length];
      if (allowed.has(servers[point.slot].name)) return servers[point.slot].name;
    }
    return undefined;
  };
}

const servers: BalancedServer[] = [
  { name: 'alpha', weight: 1, index: 0, sessions: 0 },
  { name: 'beta', weight: 3, index: 1, sessions: 0 },
  { name: 'gamma', weight: 2, index: 2, sessions: 0 },
  { name: 'delta', weight: 1, index: 3, sessions: 0 },
];

describe('HashRing', () => {
  it('places weight x POINTS_PER_WEIGHT points per server', () => {
    expect(new HashRing(servers).size).toBe(7 * POINTS_PER_WEIGHT);
    expect(new HashRing([{ name: 'zero', weight: 0, index: 0 }]).size).toBe(0);
  });

  it('walks clockwise to the first point of a candidate, exactly as the plain construction', () => {
    const ring = new HashRing(servers);
    const referenceOwner = referenceRing(servers);
    const subsets = [servers, servers.slice(1), [servers[0], servers[3]], [servers[2]]];
    for (let i = 0; i < 2000; i++) {
      const hash = hash32(`client-${i}`);
      const candidates = subsets[i % subsets.length];
      expect(ring.lookup(hash, candidates)?.name).toBe(referenceOwner(hash, candidates));
    }
    // The extremes wrap around the ring.
    expect(ring.lookup(0xffffffff, servers)?.name).toBe(referenceOwner(0xffffffff, servers));
    expect(ring.lookup(0, servers)?.name).toBe(referenceOwner(0, servers));
  });

  it('returns the candidate object itself, and undefined for unknown or no candidates', () => {
    const ring = new HashRing(servers);
    const copy = servers.map((s) => ({ ...s }));
    expect(copy).toContain(ring.lookup(12345, copy));
    expect(ring.lookup(12345, [])).toBeUndefined();
    expect(ring.lookup(12345, [{ name: 'stranger', weight: 1, index: 9, sessions: 0 }])).toBeUndefined();
  });

  it('builds a ring of 10 servers at weight 256 quickly enough for an apply', () => {
    const heavy = Array.from({ length: 10 }, (_, index) => ({ name: `srv${index}`, weight: 256, index }));
    const started = performance.now();
    const ring = new HashRing(heavy);
    expect(ring.size).toBe(10 * 256 * POINTS_PER_WEIGHT);
    // ~100 ms unloaded; the plain string-and-object build took ~2 s. Generous for a loaded CI machine.
    expect(performance.now() - started).toBeLessThan(4000);
  });
});
