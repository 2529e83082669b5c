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

  it('takes back a failure counted ahead of a check that held, leaving no trace of a source that never failed', () => {
    const window = new FailureWindow(2, 60_000);
    window.fail('a', 1000); // counted while checked...
    window.forgive('a', 1001); // ...and the check held
    expect(window.trackedSources).toBe(0);
    window.fail('a', 2000);
    window.fail('a', 2000); // two checks in flight at once: the limit is reached while they run
    expect(window.retryAfterSeconds('a', 2000)).toBeGreaterThan(0);
    window.forgive('a', 2001);
    expect(window.retryAfterSeconds('a', 2001)).toBe(0);
    window.fail('a', 2002);
    expect(window.retryAfterSeconds('a', 2002)).toBeGreaterThan(0); // one real failure and one check in flight
  });
});
