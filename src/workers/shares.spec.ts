import { describe, expect, it } from 'vitest';
import { DEFAULT_DEFAULTS, type Snapshot } from '../schema/snapshot.js';
import { GLOBAL_SHARE, planShares, scale, sharesOf } from './shares.js';

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

  it('always add up to the limit, a share of 0 staying possible; a limit below the worker count splits evenly', () => {
    for (const [shares, limit] of [
      [[100, 1], 7],
      [[1, 1, 98], 5],
      [[0, 50], 60],
      [[50, 50], 101],
    ] as Array<[number[], number]>) {
      const out = scale(shares, limit);
      expect(out.every((s) => Number.isInteger(s) && s >= 0)).toBe(true);
      expect(out.reduce((a, b) => a + b, 0)).toBe(limit);
    }
    expect(scale([0, 50], 60)).toEqual([0, 60]);
    // Below the worker count: one each, the documented excess.
    expect(scale([3, 3, 3], 2)).toEqual([1, 1, 1]);
  });

  it('give each worker its share of every accept limit', () => {
    const book = new Map([
      [GLOBAL_SHARE, [7000, 2980]],
      ['fe', [0, 101]],
    ]);
    expect(sharesOf(book, 1)).toEqual({ [GLOBAL_SHARE]: 2980, fe: 101 });
    expect(sharesOf(book, 0)).toEqual({ [GLOBAL_SHARE]: 7000, fe: 0 });
  });
});
