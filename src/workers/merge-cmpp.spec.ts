import { describe, expect, it } from 'vitest';
import { CmppCounters, cmppView, OVERFLOW_ACCOUNT } from '../runtime/cmpp-stats.js';
import type { CmppAccountStats } from '../runtime/types.js';
import { mergeCmpp, mergeCmppAccounts } from './merge-cmpp.js';

function counters(submits: number, latencyMs: number, status: number): CmppCounters {
  const c = new CmppCounters();
  c.sessions = 1;
  for (let i = 0; i < submits; i++) {
    c.submitResult(i % 2 === 0 ? 0 : 8);
    c.submitLatency(latencyMs);
  }
  c.connectResult(status);
  return c;
}

describe('mergeCmpp', () => {
  it('sums every count and recomputes the percentiles from the summed histogram', () => {
    const a = cmppView(counters(10, 1, 0), { up: 2, down: 0 });
    const b = cmppView(counters(90, 500, 5), { up: 1, down: 3 });
    const merged = mergeCmpp([a, undefined, b])!;
    expect(merged.sessions).toBe(2);
    expect(merged.submitResults).toEqual({ ok: 50, throttled: 50, other: 0 });
    expect(merged.connectStatus).toEqual({ '0': 1, '5': 1 });
    expect(merged.outstanding).toEqual({ up: 3, down: 3 });
    expect(merged.latency.counts.reduce((x, y) => x + y, 0)).toBe(100);
    expect(merged.latency.p50).toBe(b.latency.p50);
    expect(merged.latency.p99).toBe(b.latency.p99);
    // The inputs are left as they were.
    expect(a.sessions).toBe(1);
  });

  it('is undefined when no worker inspected', () => {
    expect(mergeCmpp([undefined, undefined])).toBeUndefined();
  });

  it('joins accounts by name, keeps the overflow row last', () => {
    const row = (account: string, n: number): CmppAccountStats => ({
      ...cmppView(counters(n, 1, 0), { up: 0, down: 0 }),
      account,
      version: '3.0',
    });
    const merged = mergeCmppAccounts([
      [row('900002', 2), row(OVERFLOW_ACCOUNT, 1)],
      undefined,
      [row('900001', 4), row('900002', 6), row(OVERFLOW_ACCOUNT, 3)],
    ])!;
    expect(merged.map((r) => [r.account, r.submitResults.ok + r.submitResults.throttled])).toEqual([
      ['900001', 4],
      ['900002', 8],
      [OVERFLOW_ACCOUNT, 4],
    ]);
  });
});
