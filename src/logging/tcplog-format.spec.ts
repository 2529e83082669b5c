import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { haproxyDate } from './tcplog-format.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p = (n: number, w = 2) => String(n).padStart(w, '0');

/** The date formatted from scratch, as haproxyDate did before its per-second cache. */
function uncached(ms: number): string {
  const d = new Date(ms);
  return (
    `${p(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
  );
}

describe('haproxyDate', () => {
  it('formats every instant as from scratch, whatever the order (same second, next second, back in time)', () => {
    const base = Date.UTC(2026, 11, 5, 13, 40, 1, 0);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -3000, max: 3000 }), { minLength: 1, maxLength: 50 }),
        (offsets) => {
          for (const offset of offsets) expect(haproxyDate(base + offset)).toBe(uncached(base + offset));
        },
      ),
      { numRuns: 200 },
    );
    for (const ms of [0, 999, 1000, 1001, base - 1, base, base + 999])
      expect(haproxyDate(ms)).toBe(uncached(ms));
  });
});
