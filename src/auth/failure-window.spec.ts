import { describe, expect, it } from 'vitest';
import { FailureWindow } from './failure-window.js';

describe('FailureWindow', () => {
  it('refuses a source after `limit` failures until its window ends', () => {
    const window = new FailureWindow(3, 60_000);
    for (let i = 0; i < 3; i++) {
      expect(window.retryAfterSeconds('a', 1000)).toBe(0);
      window.fail('a', 1000);
    }
    expect(window.retryAfterSeconds('a', 1000)).toBe(60);
    expect(window.retryAfterSeconds('a', 30_500)).toBe(31);
    expect(window.retryAfterSeconds('b', 30_500)).toBe(0);
    expect(window.retryAfterSeconds('a', 61_000)).toBe(0);
    window.fail('a', 61_000);
    expect(window.retryAfterSeconds('a', 61_000)).toBe(0);
  });

  it('tracks at most maxSources addresses, forgetting the oldest first', () => {
    const window = new FailureWindow(1, 60_000, 100);
    for (let i = 0; i < 1000; i++) window.fail(`10.0.${i >> 8}.${i & 255}`, 1000 + i);
    expect(window.trackedSources).toBeLessThanOrEqual(100);
    expect(window.retryAfterSeconds('10.0.3.231', 2000)).toBeGreaterThan(0); // the newest is still refused
  });
});
