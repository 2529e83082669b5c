import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultWorkerCount, openFileLimit } from './worker-count.js';
import { shareOf, workerSnapshot } from './snapshot-split.js';
import { DEFAULT_DEFAULTS } from '../schema/snapshot.js';

describe('how many workers', () => {
  it('is the number of cores unless defaults.maxconn needs more descriptors (50,000 at 20,000 -> 6)', () => {
    expect(defaultWorkerCount(50_000, 20_000, 2).workers).toBe(6);
    expect(defaultWorkerCount(50_000, 20_000, 2).why).toMatch(/raised from 2 cores: defaults.maxconn 50000/);
    expect(defaultWorkerCount(9_000, 20_000, 2).workers).toBe(2);
    expect(defaultWorkerCount(9_000, 20_000, 8).workers).toBe(8);
    expect(defaultWorkerCount(50_000, null, 2).workers).toBe(2);
  });

  it('reads the open-file limit from /proc/self/limits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'limits-'));
    try {
      const file = join(dir, 'limits');
      writeFileSync(
        file,
        'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n',
      );
      expect(openFileLimit(file)).toBe(20_000);
      expect(openFileLimit(join(dir, 'missing'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});

describe('maxconn split over workers', () => {
  it('gives shares that add up to the limit, and at least 1', () => {
    for (const [limit, workers] of [
      [50_000, 6],
      [7, 2],
      [10, 3],
      [100, 1],
    ]) {
      const shares = Array.from({ length: workers }, (_, i) => shareOf(limit, i, workers));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(limit);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
    expect([0, 1, 2].map((i) => shareOf(2, i, 3))).toEqual([1, 1, 1]);
  });

  it('splits defaults, frontend and server maxconn, leaving unset ones unset', () => {
    const snapshot = {
      defaults: { ...DEFAULT_DEFAULTS, maxconn: 101 },
      frontends: [
        {
          name: 'a',
          bind: { address: '127.0.0.1', port: 1 },
          binds: [],
          backend: 'b',
          enabled: true,
          maxconn: 11,
        },
        { name: 'c', bind: { address: '127.0.0.1', port: 2 }, binds: [], backend: 'b', enabled: true },
      ],
      backends: [
        {
          name: 'b',
          balance: 'roundrobin' as const,
          hashType: 'consistent' as const,
          check: { type: 'none' as const, inter: 1, fall: 1, rise: 1 },
          sendProxy: 'none' as const,
          onMarkedDown: 'keep' as const,
          servers: [
            { name: 's', address: '127.0.0.1', port: 3, weight: 1, backup: false, check: false, maxconn: 5 },
            { name: 't', address: '127.0.0.1', port: 4, weight: 1, backup: false, check: false },
          ],
        },
      ],
    };
    const [w0, w1] = [0, 1].map((i) => workerSnapshot(snapshot, i, 2));
    expect([w0.defaults.maxconn, w1.defaults.maxconn]).toEqual([51, 50]);
    expect([w0.frontends[0].maxconn, w1.frontends[0].maxconn]).toEqual([6, 5]);
    expect(w0.frontends[1].maxconn).toBeUndefined();
    expect([w0.backends[0].servers[0].maxconn, w1.backends[0].servers[0].maxconn]).toEqual([3, 2]);
    expect(w0.backends[0].servers[1].maxconn).toBeUndefined();
    expect(snapshot.defaults.maxconn).toBe(101);
  });
});
