import { describe, expect, it } from 'vitest';
import type { RuntimeStats, SessionInfo, StatsSample } from '../runtime/types.js';
import { lastSessionTimes } from './last-session.js';

const NOW = 1_700_000_100_000;

function statsWith(stot: Record<string, number>): RuntimeStats {
  const servers = Object.entries(stot).map(([name, total]) => ({ name, stot: total }));
  return {
    at: NOW,
    uptime: 100,
    frontends: [],
    backends: [{ name: 'be', servers }],
  } as unknown as RuntimeStats;
}

function sample(t: number, stot: Record<string, number>): StatsSample {
  const servers: StatsSample['servers'] = {};
  for (const [name, total] of Object.entries(stot))
    servers[`be/${name}`] = { scur: 0, stot: total, bin: 0, bout: 0 };
  return { t, frontends: {}, servers };
}

describe('lastSessionTimes', () => {
  const history = [
    sample(NOW - 3000, { a: 1, b: 2, c: 5 }),
    sample(NOW - 2000, { a: 2, b: 2, c: 5 }),
    sample(NOW - 1000, { a: 2, b: 2, c: 5 }),
  ];

  it('dates the latest session by the first sample that counted it', () => {
    expect(lastSessionTimes(statsWith({ a: 2 }), [], history).get('be/a')).toBe(NOW - 2000);
  });

  it('says now for a session newer than the newest sample', () => {
    expect(lastSessionTimes(statsWith({ c: 6 }), [], history).get('be/c')).toBe(NOW);
  });

  it('falls back to the oldest sample when the session predates the history', () => {
    expect(lastSessionTimes(statsWith({ b: 2 }), [], history).get('be/b')).toBe(NOW - 3000);
  });

  it('prefers the exact start of a live session and leaves never-used servers out', () => {
    const live = { backend: 'be', server: 'b', startedAt: NOW - 1500 } as SessionInfo;
    const times = lastSessionTimes(statsWith({ b: 2, d: 0 }), [live], history);
    expect(times.get('be/b')).toBe(NOW - 1500);
    expect(times.has('be/d')).toBe(false);
  });
});
