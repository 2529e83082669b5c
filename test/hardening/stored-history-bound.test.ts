// GET /stats/history prepends the stored chart samples of the last hour. With the 20,000 servers a config may
// have, one stored sample is ~1 MB and the hour holds 360: they were all read, parsed and answered at once
// by any viewer's request. Now the newest of them that fit in STORED_HISTORY_BYTES_MAX are answered.
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORED_HISTORY_BYTES_MAX } from '../../src/events/sample-store.service.js';
import { startApp, type StartedApp } from '../helpers/app.js';

let t: StartedApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t?.close();
});

/** A stored sample's data of about `bytes`: servers with long names, as a large config's are. */
function bigData(bytes: number): string {
  const servers: Record<string, { scur: number; stot: number; bin: number; bout: number }> = {};
  const entry = JSON.stringify({ scur: 0, stot: 0, bin: 0, bout: 0 }).length;
  const name = 'backend-with-a-long-name/server-';
  for (let i = 0; (name.length + 8 + entry) * i < bytes; i++)
    servers[`${name}${i}`] = { scur: 0, stot: i, bin: 0, bout: 0 };
  return JSON.stringify({ frontends: {}, servers });
}

it('answers the newest stored samples that fit the byte budget, oldest first', async () => {
  const db = t.app.get(DataSource);
  const data = bigData(4 * 1024 * 1024);
  const now = Date.now();
  // 80 MB of samples, ten seconds apart, all older than the live ring's first sample and within the hour.
  const times = Array.from({ length: 20 }, (_, i) => now - 30 * 60_000 + i * 10_000);
  for (const time of times) await db.query('INSERT INTO stats_samples (t, data) VALUES (?, ?)', [time, data]);

  const res = await t.request.get('/api/v1/stats/history');
  expect(res.status).toBe(200);
  const stored = (res.body as Array<{ t: number }>).filter((s) => s.t <= times.at(-1)!);
  const fit = Math.floor(STORED_HISTORY_BYTES_MAX / data.length);
  expect(fit).toBeGreaterThan(0);
  expect(fit).toBeLessThan(times.length);
  expect(stored.map((s) => s.t)).toEqual(times.slice(-fit));
});
