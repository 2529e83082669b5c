import { describe, expect, it } from 'vitest';
import { descriptorReserve, openDescriptorCount, sessionBudget } from './descriptors.js';

describe('session budget', () => {
  it('is what two descriptors per session leave of the limit after what is open and the reserve', () => {
    expect(descriptorReserve(1024)).toBe(64 + 11);
    expect(sessionBudget(1024, 30)).toBe(Math.floor((1024 - 30 - 75) / 2));
    expect(sessionBudget(20_000, 40)).toBe(Math.floor((20_000 - 40 - 264) / 2));
    expect(sessionBudget(80, 70)).toBe(1);
  });

  it('is unbounded when the limit is unknown or unlimited', () => {
    expect(sessionBudget(undefined, 10)).toBe(Number.POSITIVE_INFINITY);
    expect(sessionBudget(Number.MAX_SAFE_INTEGER, 10)).toBe(Number.POSITIVE_INFINITY);
  });

  it('counts the descriptors this process has open', () => {
    expect(openDescriptorCount()).toBeGreaterThan(2);
    expect(openDescriptorCount('/nonexistent')).toBeUndefined();
  });
});
