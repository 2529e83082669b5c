// The live chart history (one sample a second, 1,200 kept) in a config as large as the limits allow: 20,000
// servers made each sample ~2 MB of heap, so the ring alone grew to ~2.3 GB and the process ran out of memory
// within 20 minutes, with no request at all. The ring is bounded by the figures it holds, newest kept.
import { expect, it } from 'vitest';
import { LIMITS } from '../../src/schema/fields.js';
import { HISTORY_FIGURES_MAX, HistoryRing } from '../../src/runtime/stats.js';
import type { StatsSample } from '../../src/runtime/types.js';

function sample(t: number, servers: number): StatsSample {
  const s: StatsSample = { t, frontends: { f: { scur: 0, stot: 0, bin: 0, bout: 0 } }, servers: {} };
  for (let i = 0; i < servers; i++) s.servers[`b/s${i}`] = { scur: 0, stot: t, bin: 0, bout: 0 };
  return s;
}

it('holds at most HISTORY_FIGURES_MAX figures with the largest config, the newest samples, oldest first', () => {
  const ring = new HistoryRing(1200);
  // One shared sample object per push keeps the test itself small; the ring counts its figures each time.
  const big = sample(0, LIMITS.servers);
  for (let t = 1; t <= 1200; t++) ring.push({ ...big, t });
  const kept = ring.toArray();
  const perSample = LIMITS.servers + 1;
  expect(kept.length).toBe(Math.floor(HISTORY_FIGURES_MAX / perSample));
  expect(kept.at(-1)!.t).toBe(1200);
  expect(kept.map((s) => s.t)).toEqual(kept.map((_, i) => 1200 - kept.length + 1 + i));
});

it('a small config keeps every sample up to the size, and one sample always stays', () => {
  const ring = new HistoryRing(1200);
  for (let t = 1; t <= 1500; t++) ring.push(sample(t, 10));
  expect(ring.toArray()).toHaveLength(1200);
  const tiny = new HistoryRing(10, 5);
  tiny.push(sample(1, 100));
  tiny.push(sample(2, 100));
  expect(tiny.toArray().map((s) => s.t)).toEqual([2]);
});
