import { describe, expect, it } from 'vitest';
import { DEFAULT_DEFAULTS, type Snapshot } from '../schema/snapshot.js';
import { GLOBAL_SHARE, planShares, scale, withShares } from './shares.js';

function config(maxconn: number, frontendMaxconn?: number): Snapshot {
  return {
    defaults: { ...structuredClone(DEFAULT_DEFAULTS), maxconn },
    frontends: [
      {
        name: 'fe',
        bind: { address: '127.0.0.1', port: 1 },
        binds: [{ address: '127.0.0.1', port: 1 }],
        backend: 'be',
        enabled: true,
        ...(frontendMaxconn !== undefined && { maxconn: frontendMaxconn }),
      },
    ] as Snapshot['frontends'],
    backends: [],
  };
}

describe('limit shares', () => {
  it('start even and add up to the limit', () => {
    const book = planShares(config(9980, 101), 2);
    expect(book.get(GLOBAL_SHARE)).toEqual([4990, 4990]);
    expect(book.get('fe')).toEqual([51, 50]);
  });

  it('keep a skewed split when the limit changes, scaled to the new limit', () => {
    const skewed = new Map([[GLOBAL_SHARE, [7000, 2980]]]);
    expect(planShares(config(9980), 2, skewed).get(GLOBAL_SHARE)).toEqual([7000, 2980]);
    const raised = planShares(config(19960), 2, skewed).get(GLOBAL_SHARE)!;
    expect(raised).toEqual([14000, 5960]);
    const lowered = planShares(config(5001), 2, skewed).get(GLOBAL_SHARE)!;
    expect(lowered[0] + lowered[1]).toBe(5001);
    expect(lowered[0]).toBeGreaterThan(lowered[1]);
  });

  it('start even again for a new worker count or a new limit', () => {
    const skewed = new Map([[GLOBAL_SHARE, [7000, 2980]]]);
    expect(planShares(config(9000, 30), 3, skewed).get(GLOBAL_SHARE)).toEqual([3000, 3000, 3000]);
    expect(planShares(config(9980, 30), 2, skewed).get('fe')).toEqual([15, 15]);
  });

  it('never go below 1 and always add up', () => {
    for (const [shares, limit] of [
      [[100, 1], 7],
      [[1, 1, 98], 5],
      [[3, 3, 3], 2],
      [[50, 50], 101],
    ] as Array<[number[], number]>) {
      const out = scale(shares, limit);
      expect(out.every((s) => s >= 1)).toBe(true);
      expect(out.reduce((a, b) => a + b, 0)).toBe(Math.max(limit, shares.length));
    }
  });

  it('give each worker its share in the snapshot it runs', () => {
    const snapshot = config(9980, 101);
    const book = new Map([
      [GLOBAL_SHARE, [7000, 2980]],
      ['fe', [1, 100]],
    ]);
    const w1 = withShares(snapshot, book, 1);
    expect(w1.defaults.maxconn).toBe(2980);
    expect(w1.frontends[0].maxconn).toBe(100);
    expect(snapshot.defaults.maxconn).toBe(9980);
  });
});
