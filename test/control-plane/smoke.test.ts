import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';

let t: StartedApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t?.close());

it('boots with an empty config', async () => {
  const res = await t.request.get('/api/v1/config');
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ revision: 0, frontends: [], backends: [] });
  expect(res.headers.etag).toBe('"0"');
  const health = await t.request.get('/healthz');
  expect(health.status).toBe(200);
});
