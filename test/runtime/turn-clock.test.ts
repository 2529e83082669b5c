import { describe, expect, it } from 'vitest';
import { turnClock } from '../../src/runtime/turn-clock.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Busy-waits `ms` of real time (bounded: a few ms), so a fresh reading must differ. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('turnClock', () => {
  it('gives every call of one event-loop turn the first reading, and a fresh one the next turn', async () => {
    await turn();
    const first = turnClock();
    spin(3);
    expect(turnClock()).toBe(first);
    await turn();
    const next = turnClock();
    expect(next).toBeGreaterThanOrEqual(first + 3);
    expect(Math.abs(next - performance.now())).toBeLessThan(1000);
  });
});
