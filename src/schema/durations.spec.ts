import { describe, expect, it } from 'vitest';
import { durationExactMs, formatDuration, toMilliseconds } from './durations.js';

describe('durations', () => {
  it('reads every HAProxy unit and unitless milliseconds', () => {
    expect(toMilliseconds('5s')).toBe(5000);
    expect(toMilliseconds('500ms')).toBe(500);
    expect(toMilliseconds('1m')).toBe(60_000);
    expect(toMilliseconds('1h')).toBe(3_600_000);
    expect(toMilliseconds('2d')).toBe(172_800_000);
    expect(toMilliseconds('750')).toBe(750);
    expect(toMilliseconds(' 5s ')).toBe(5000);
    expect(toMilliseconds(1234)).toBe(1234);
    // Microseconds round up to whole milliseconds.
    expect(durationExactMs('10us')).toBe(0.01);
    expect(toMilliseconds('10us')).toBe(1);
  });

  it('leaves what is not a duration for the check to name', () => {
    for (const text of ['5 s', '1.5s', '-5s', '5S', 's', '', 'fast', '5sec'])
      expect(toMilliseconds(text)).toBe(text);
    expect(toMilliseconds(null)).toBe(null);
  });

  it('writes milliseconds in the largest exact unit', () => {
    expect(formatDuration(5000)).toBe('5s');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(1500)).toBe('1500ms');
    expect(formatDuration(10)).toBe('10ms');
  });
});
