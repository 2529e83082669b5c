// Issue 8, points 8 and 9: a flood of throttled logins makes one audit row per source and minute (with the count),
// bad bearer tokens cost no slow hash and are throttled per source address (429 with Retry-After).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { TEST_ADMIN_PASSWORD } from '../helpers/auth.js';
import { requestFrom, type RawAnswer } from '../helpers/http-from.js';
import { readDatabase } from '../helpers/sqlite.js';

const BAD_TOKENS_PER_MINUTE = 40;

/** `total` requests made by `make`, at most `concurrency` at a time; their statuses in order. */
async function inWaves(total: number, concurrency: number, make: (i: number) => Promise<RawAnswer>) {
  const statuses: number[] = [];
  for (let i = 0; i < total; i += concurrency) {
    const wave = await Promise.all(
      Array.from({ length: Math.min(concurrency, total - i) }, (_, j) => make(i + j)),
    );
    statuses.push(...wave.map((a) => a.status));
  }
  return statuses;
}

describe('throttling', () => {
  let t: StartedApp;
  let validToken: string;
  let wrongSecret: string;

  const login = (from: string, password = 'wrong-password-1') =>
    requestFrom(t.url, '/api/v1/auth/login', {
      method: 'POST',
      from,
      body: JSON.stringify({ username: 'admin', password }),
    });
  const withToken = (from: string, token: string) =>
    requestFrom(t.url, '/api/v1/frontends', { from, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    t = await startApp({ env: { TETHER_BAD_TOKENS_PER_MINUTE: String(BAD_TOKENS_PER_MINUTE) } });
    validToken = await t.tokenFor('admin');
    // The right id with a wrong secret: the case that reaches the stored hash.
    wrongSecret = validToken.slice(0, -1) + (validToken.endsWith('A') ? 'B' : 'A');
  });
  afterAll(() => t?.close());

  it('records 2,000 throttled login attempts from one address as one row per minute, with their count', async () => {
    const source = '127.0.0.41';
    const statuses = await inWaves(2000, 50, () => login(source));
    const refused = statuses.filter((s) => s === 429).length;
    expect(refused).toBeGreaterThanOrEqual(1990 - 10); // 10 attempts a minute pass (twice if a minute turns)
    await t.request.get('/api/v1/audit').query({ limit: 1 }).expect(200); // reading the log brings counts up to date
    const rows = readDatabase(t.dbPath, (db) =>
      db
        .prepare("SELECT detail FROM audit_events WHERE sourceAddress = ? AND detail LIKE 'throttled%'")
        .all(source),
    ) as { detail: string }[];
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(2);
    const counted = rows.reduce(
      (sum, row) => sum + Number(/^throttled: (\d+) attempt/.exec(row.detail)?.[1]),
      0,
    );
    expect(counted).toBe(refused);
    const all = readDatabase(t.dbPath, (db) =>
      db.prepare('SELECT COUNT(*) AS n FROM audit_events WHERE sourceAddress = ?').get(source),
    ) as { n: number };
    expect(all.n).toBeLessThanOrEqual(22); // the wrong passwords let through, and the throttled rows
  });

  it('refuses a source that keeps sending bad tokens with 429 and Retry-After, other sources unaffected', async () => {
    const source = '127.0.0.42';
    const statuses: number[] = [];
    for (let i = 0; i < BAD_TOKENS_PER_MINUTE; i++)
      statuses.push((await withToken(source, wrongSecret)).status);
    expect(statuses).toEqual(Array(BAD_TOKENS_PER_MINUTE).fill(401));
    for (const token of [wrongSecret, 'tts_' + 'x'.repeat(43), validToken]) {
      const refused = await withToken(source, token);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    expect((await withToken('127.0.0.43', validToken)).status).toBe(200);
    const audit = await t.request.get('/api/v1/audit').query({ action: 'auth.token', limit: 10 }).expect(200);
    const rows = audit.body.items.filter((e: { sourceAddress?: string }) => e.sourceAddress === source);
    expect(rows).toHaveLength(1);
    expect(rows[0].detail).toMatch(/^throttled: 3 attempt/);
  });

  // The issue measured a login slowed from 0.05 s to 5.3 s by 64 concurrent bad tokens (each ran scrypt); on the test
  // machine that was 0.1 s to 9.7 s, and is 0.1 s to 0.6 s now (64 requests still have to be answered). The bound is
  // generous on purpose: a shared 2-core machine, and a login that itself runs scrypt once.
  it('keeps a login fast while 64 bad tokens arrive at once', async () => {
    const timeLogin = async (from: string) => {
      const started = performance.now();
      const res = await login(from, TEST_ADMIN_PASSWORD);
      expect(res.status).toBe(200);
      return performance.now() - started;
    };
    const baseline = Math.min(await timeLogin('127.0.0.44'), await timeLogin('127.0.0.44'));
    // 16 from each of 4 addresses: below the per-address limit, so every one is really checked.
    const flood = Array.from({ length: 64 }, (_, i) => withToken(`127.0.0.${50 + (i % 4)}`, wrongSecret));
    const duringFlood = await timeLogin('127.0.0.45');
    const answers = await Promise.all(flood);
    expect(answers.map((a) => a.status)).toEqual(Array(64).fill(401));
    console.log(`login ${baseline.toFixed(0)} ms alone, ${duringFlood.toFixed(0)} ms during 64 bad tokens`);
    expect(duringFlood).toBeLessThan(baseline + 1500);
  });
});
