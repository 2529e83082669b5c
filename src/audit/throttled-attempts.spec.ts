import { describe, expect, it } from 'vitest';
import { describeWindow, MANY_SOURCES, ThrottledAttemptWindows } from './throttled-attempts.js';

const attempt = (sourceAddress: string) => ({
  sourceAddress,
  action: 'auth.login',
  detail: 'over the limit',
});

describe('ThrottledAttemptWindows', () => {
  it('opens one window per source and minute and counts the attempts in it', () => {
    const windows = new ThrottledAttemptWindows(60_000);
    expect(windows.count(attempt('a'), 0).first).toBe(true);
    for (let i = 1; i < 500; i++) expect(windows.count(attempt('a'), i * 100).first).toBe(false);
    const { window } = windows.count(attempt('a'), 59_999);
    expect(window.count).toBe(501);
    expect(describeWindow(window, 60_000)).toMatch(
      /^throttled: 501 attempt\(s\) from 1970-01-01T00:00:00.000Z/,
    );
    expect(windows.count(attempt('a'), 60_000).first).toBe(true); // the next minute
    expect(windows.count(attempt('b'), 60_000).first).toBe(true);
  });

  it('forgets ended windows once written, and puts sources past the bound in one shared window', () => {
    const windows = new ThrottledAttemptWindows(60_000, 10);
    for (let i = 0; i < 50; i++) windows.count(attempt(`s${i}`), 0);
    expect(windows.open).toBe(11);
    const shared = windows.count(attempt('s99'), 1).window;
    expect(shared.attempt.sourceAddress).toBe(MANY_SOURCES);
    expect(shared.count).toBe(41);
    windows.forgetEnded(60_000);
    expect(windows.open).toBe(11); // not written yet
    for (const window of windows.unwritten()) window.written = window.count;
    windows.forgetEnded(60_000);
    expect(windows.open).toBe(0);
  });
});
