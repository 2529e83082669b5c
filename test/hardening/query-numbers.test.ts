// Number query parameters of the event log and the chart history, through the real app: plain decimal digits
// only. Number() would read `0x10` as 16, `1e3` as 1000 and a blank as 0, so such a filter did something
// other than what was sent; each is now a 400 naming the parameter.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';

let t: StartedApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t?.close();
});

const REFUSED = ['0x10', '1e3', '%20', '', '-0', '+5', '1.0', '٥', '010'];

it('GET /events: since and limit refuse anything but plain decimal digits, naming the parameter', async () => {
  for (const param of ['since', 'limit']) {
    for (const value of REFUSED) {
      const res = await t.request.get(`/api/v1/events?${param}=${value}`);
      expect(res.status, `${param}=${value}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(param);
    }
  }
  const ok = await t.request.get('/api/v1/events?since=0&limit=5');
  expect(ok.status).toBe(200);
  expect(ok.body.length).toBeGreaterThan(0);
  expect((await t.request.get('/api/v1/events?since=99999999999999&limit=1000')).body).toEqual([]);
});

it('GET /stats/history: since refuses anything but plain decimal digits', async () => {
  for (const value of REFUSED) {
    const res = await t.request.get(`/api/v1/stats/history?since=${value}`);
    expect(res.status, `since=${value}: ${JSON.stringify(res.body)}`).toBe(400);
    expect(res.body.field).toBe('since');
  }
  expect((await t.request.get('/api/v1/stats/history?since=0')).status).toBe(200);
  expect((await t.request.get('/api/v1/stats/history')).status).toBe(200);
});
