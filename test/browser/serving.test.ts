// The app serves the console at / (SPA fallback for deep links) without swallowing the API, /healthz or /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';

describe('console served by the app', () => {
  let tether: StartedApp;

  beforeAll(async () => {
    ensureConsoleBuilt();
    tether = await startApp();
  });
  afterAll(() => tether?.close());

  it('serves index.html at / and for deep links, without credentials', async () => {
    for (const path of ['/', '/history', '/some/deep/link']) {
      const res = await tether.anonymous.get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type'], path).toMatch(/text\/html/);
      expect(res.text, path).toContain('<div id="app">');
    }
  });

  it('serves the hashed assets with a long cache lifetime and index.html revalidated', async () => {
    const index = await tether.anonymous.get('/');
    expect(index.headers['cache-control']).toBe('no-cache');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(index.text)?.[1];
    expect(asset).toBeDefined();
    const res = await tether.anonymous.get(asset!);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toContain('immutable');
  });

  it('leaves unknown API paths, /healthz and /metrics to the app', async () => {
    const api = await tether.request.get('/api/v1/no-such-thing');
    expect(api.status).toBe(404);
    expect(api.headers['content-type']).toMatch(/json/);
    const health = await tether.anonymous.get('/healthz');
    expect(health.headers['content-type'] ?? '').not.toMatch(/text\/html/);
    const metrics = await tether.anonymous.get('/metrics');
    expect(metrics.text).not.toContain('<div id="app">');
  });
});
