// Issue 8, point 8, for callers that did authenticate: a viewer's script looping on a call its role may not make wrote
// one audit row per attempt (2,000 rows in 8 s, kept 90 days), so the lowest role could fill the disk. Refusals for
// want of a role are now counted like throttled attempts: one row per caller, action and minute, with the address and
// target of the first attempt, however many targets the script goes through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { requestFrom } from '../helpers/http-from.js';
import { readDatabase } from '../helpers/sqlite.js';

const ATTEMPTS = 600;
const WAVE = 50;

describe('a flood of calls refused for want of a role', () => {
  let t: StartedApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('is audited as one row per action and minute, with its count', async () => {
    const viewer = await t.tokenFor('viewer');
    // Every call on another server: a script walking through a list.
    const target = (i: number) => `ismg/gw${i}`;
    for (let sent = 0; sent < ATTEMPTS; sent += WAVE) {
      const wave = await Promise.all(
        Array.from({ length: WAVE }, (_, i) =>
          requestFrom(t.url, `/api/v1/backends/${target(sent + i).replace('/', '/servers/')}/state`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${viewer}` },
            body: JSON.stringify({ state: 'maint' }),
          }),
        ),
      );
      expect(wave.map((answer) => answer.status)).toEqual(Array(WAVE).fill(403));
    }
    // Reading the log brings the counts up to date; the rows still show who, from where, on what first.
    const listed = await t.request
      .get('/api/v1/audit')
      .query({ user: 'token:test-viewer', result: 'denied', limit: 1000 })
      .expect(200);
    const rows = listed.body.items as { action: string; target: string; role: string; detail: string }[];
    expect(rows.length, `${rows.length} rows`).toBeGreaterThanOrEqual(1);
    expect(rows.length, `${rows.length} rows`).toBeLessThanOrEqual(2); // a minute may turn
    for (const row of rows) {
      expect(row).toMatchObject({ action: 'server.state', role: 'viewer', sourceAddress: '127.0.0.1' });
      expect(row.target).toMatch(/^ismg\/gw\d+$/);
    }
    const counted = rows.reduce(
      (sum, row) => sum + Number(/^denied: (\d+) attempt/.exec(row.detail)?.[1]),
      0,
    );
    expect(counted).toBe(ATTEMPTS);
    const stored = readDatabase(t.dbPath, (db) =>
      db.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'token:test-viewer'").get(),
    ) as { n: number };
    expect(stored.n).toBeLessThanOrEqual(2);
  }, 60_000);
});
