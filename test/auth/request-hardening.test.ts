// Issue 8, points 10, 12, 13 and 17 (refused user.create): bodies parsed only after authentication and never
// nested without bound, the login's cross-site check bound to the route rather than to a spelling of its path,
// `Cache-Control: no-store` on every API answer, and a refused user creation audited with the name it asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { TEST_ADMIN_PASSWORD } from '../helpers/auth.js';
import { requestFrom } from '../helpers/http-from.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('request hardening', () => {
  let t: StartedApp;
  let adminToken: string;

  beforeAll(async () => {
    t = await startApp();
    adminToken = await t.tokenFor('admin');
  });
  afterAll(() => t?.close());

  it('answers JSON nested beyond the fixed depth with a 400 naming body, never a 500', async () => {
    for (const depth of [33, 3000]) {
      const res = await requestFrom(t.url, '/api/v1/config/validate', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
        body: `{"frontends":${nested(depth)}}`,
      });
      expect(res.status, `depth ${depth}`).toBe(400);
      expect(res.json).toMatchObject({ statusCode: 400, field: 'body' });
      expect((res.json as { message: string }).message).toMatch(/nest/i);
    }
    // 32 levels are still read (and then judged by validation like any other body).
    const ok = await requestFrom(t.url, '/api/v1/config/validate', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      body: `{"x":${nested(31)}}`,
    });
    expect(ok.status).toBe(400);
    expect((ok.json as { field?: string }).field).not.toBe('body');
  });

  it('does not parse the body of a request without credentials: 401 whatever the body holds', async () => {
    for (const body of ['{"frontends": [', nested(3000), JSON.stringify({ pad: 'x'.repeat(300_000) })]) {
      const res = await requestFrom(t.url, '/api/v1/config/validate', { method: 'POST', body });
      expect(res.status).toBe(401);
    }
    // A wrong token is no better than none: still 401, body unread.
    const wrong = await requestFrom(t.url, '/api/v1/config/validate', {
      method: 'POST',
      headers: { authorization: 'Bearer tth_1_' + 'A'.repeat(43) },
      body: '{"frontends": [',
    });
    expect(wrong.status).toBe(401);
  });

  it('reads at most a small body on the public login route', async () => {
    const big = await requestFrom(t.url, '/api/v1/auth/login', {
      method: 'POST',
      from: '127.0.0.21',
      body: JSON.stringify({ username: 'admin', password: 'x'.repeat(100_000) }),
    });
    expect(big.status).toBe(413);
    expect(big.json).toMatchObject({ field: 'body' });
    const normal = await requestFrom(t.url, '/api/v1/auth/login', {
      method: 'POST',
      from: '127.0.0.21',
      body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    });
    expect(normal.status).toBe(200);
  });

  it('applies the cross-site check of the login to every spelling of its route', async () => {
    const body = JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD });
    for (const path of [
      '/api/v1/auth/login',
      '/api/v1/auth/login/',
      '/API/V1/AUTH/LOGIN',
      '/api/v1/Auth/Login/',
    ]) {
      const crossSite = await requestFrom(t.url, path, {
        method: 'POST',
        from: '127.0.0.22',
        headers: { origin: 'http://evil.example' },
        body,
      });
      expect(crossSite.status, path).toBe(403);
      const fetchSite = await requestFrom(t.url, path, {
        method: 'POST',
        from: '127.0.0.22',
        headers: { 'sec-fetch-site': 'cross-site' },
        body,
      });
      expect(fetchSite.status, path).toBe(403);
    }
    // The route itself still works from the console's own origin.
    const sameOrigin = await requestFrom(t.url, '/api/v1/auth/login/', {
      method: 'POST',
      from: '127.0.0.23',
      headers: { origin: t.url },
      body,
    });
    expect(sameOrigin.status).toBe(200);
  });

  it('sends Cache-Control: no-store on every API answer, errors included', async () => {
    const answers = [
      await requestFrom(t.url, '/api/v1/auth/login', {
        method: 'POST',
        from: '127.0.0.24',
        body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
      }),
      await requestFrom(t.url, '/api/v1/tokens', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ name: 'cache-check', role: 'viewer' }),
      }),
      await requestFrom(t.url, '/api/v1/frontends', { headers: { authorization: `Bearer ${adminToken}` } }),
      await requestFrom(t.url, '/api/v1/frontends'),
      await requestFrom(t.url, '/api/v1/no-such-route', {
        headers: { authorization: `Bearer ${adminToken}` },
      }),
      await requestFrom(t.url, '/api/v1/users', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
        body: '{"username":',
      }),
      await requestFrom(t.url, '/healthz'),
      await requestFrom(t.url, '/metrics', { headers: { authorization: `Bearer ${adminToken}` } }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 201, 200, 401, 404, 400, 200, 200]);
    for (const answer of answers) expect(answer.headers['cache-control']).toBe('no-store');
  });

  it('audits a refused user creation with the username it asked for as target', async () => {
    const long = 'u'.repeat(300);
    for (const username of ['taken', long]) {
      const res = await requestFrom(t.url, '/api/v1/users', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ username, password: 'short', role: 'viewer' }),
      });
      expect(res.status).toBe(400);
    }
    const audit = await t.request
      .get('/api/v1/audit')
      .query({ action: 'user.create', result: 'failed', limit: 10 })
      .expect(200);
    const targets = audit.body.items.map((e: { target?: string }) => e.target);
    expect(targets).toContain('taken');
    expect(targets).toContain(long.slice(0, 64));
    expect(targets.every((target: unknown) => typeof target === 'string' && target.length <= 64)).toBe(true);
  });
});
