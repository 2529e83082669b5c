// Issue 8, point 8, for callers whose changes fail: an operator's script looping on a refused change wrote one audit
// row per attempt (about 500 rows a second). The first FAILURES_RECORDED_SINGLY failures of a caller and action each
// minute keep rows of their own (what failed and why); the minute's further failures share one row with their count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILURES_RECORDED_SINGLY } from '../../src/audit/audit.service.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { requestFrom } from '../helpers/http-from.js';
import { readDatabase } from '../helpers/sqlite.js';

const ATTEMPTS = 400;
const WAVE = 40;

describe('a flood of failing changes', () => {
  let t: StartedApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('keeps the first few as rows of their own and counts the rest in one row a minute', async () => {
    const operator = await t.tokenFor('operator');
    for (let sent = 0; sent < ATTEMPTS; sent += WAVE) {
      const wave = await Promise.all(
        Array.from({ length: WAVE }, (_, i) =>
          requestFrom(t.url, `/api/v1/backends/nope/servers/gw${sent + i}/state`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${operator}` },
            body: JSON.stringify({ state: 'drain' }),
          }),
        ),
      );
      expect(wave.map((answer) => answer.status)).toEqual(Array(WAVE).fill(404));
    }
    const listed = await t.request
      .get('/api/v1/audit')
      .query({ user: 'token:test-operator', result: 'failed', limit: 1000 })
      .expect(200);
    const rows = listed.body.items as { action: string; detail: string }[];
    const single = rows.filter((row) => row.detail.startsWith('404 '));
    const windows = rows.filter((row) => row.detail.startsWith('failed: '));
    // A minute may turn during the run: then up to twice the single rows and two windows.
    expect(single.length).toBeGreaterThanOrEqual(FAILURES_RECORDED_SINGLY);
    expect(single.length).toBeLessThanOrEqual(2 * FAILURES_RECORDED_SINGLY);
    expect(windows.length).toBeGreaterThanOrEqual(1);
    expect(windows.length).toBeLessThanOrEqual(2);
    const counted = windows.reduce(
      (sum, row) => sum + Number(/^failed: (\d+) attempt/.exec(row.detail)?.[1]),
      0,
    );
    expect(single.length + counted).toBe(ATTEMPTS);
    const stored = readDatabase(t.dbPath, (db) =>
      db.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'token:test-operator'").get(),
    ) as { n: number };
    expect(stored.n).toBeLessThanOrEqual(2 * FAILURES_RECORDED_SINGLY + 2);
  }, 60_000);
});
