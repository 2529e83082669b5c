// Issue 4, points 4 and 6: helmet headers, errors without stack traces, and TLS with a Secure session cookie.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_PASSWORD } from '../helpers/auth.js';
import { startApp, type StartedApp } from '../helpers/app.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function expectNoInternals(body: unknown): void {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/\s+at .+\(|node_modules|\.ts:\d+|stack/i);
  expect(Object.keys(body as object).sort()).toEqual(
    expect.arrayContaining(['error', 'message', 'statusCode']),
  );
}

describe('security headers and errors', () => {
  let t: StartedApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('sends helmet headers on API answers, errors and the console', async () => {
    for (const res of [
      await t.request.get('/api/v1/stats'),
      await t.anonymous.get('/api/v1/stats'),
      await t.anonymous.get('/healthz'),
      await t.anonymous.get('/'),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-powered-by']).toBeUndefined();
      // HSTS only over TLS.
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('answers errors in the one error shape, without stack traces or internals', async () => {
    const unauthenticated = await t.anonymous.get('/api/v1/frontends');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers['www-authenticate']).toMatch(/^Bearer/);
    expectNoInternals(unauthenticated.body);

    const badToken = await t.anonymous.get('/api/v1/frontends').set('Authorization', 'Bearer tth_1_nope');
    expect(badToken.status).toBe(401);
    expectNoInternals(badToken.body);

    const badScheme = await t.anonymous
      .get('/api/v1/frontends')
      .set('Authorization', 'Basic YWRtaW46YWRtaW4=');
    expect(badScheme.status).toBe(401);
    expect(badScheme.body.message).toMatch(/Bearer/);

    const malformed = await t.request
      .post('/api/v1/users')
      .set('Content-Type', 'application/json')
      .send('{"username": "x", ');
    expect(malformed.status).toBe(400);
    expectNoInternals(malformed.body);

    const invalid = await t.request.post('/api/v1/tokens').send({ name: 42, role: 'viewer' });
    expect(invalid.status).toBe(400);
    expectNoInternals(invalid.body);

    const missing = await t.request.get('/api/v1/users/nobody');
    expect(missing.status).toBe(404);
    expectNoInternals(missing.body);

    const malformedLogin = await t.anonymous
      .post('/api/v1/auth/login')
      .send({ username: ['admin'], password: {} });
    expect(malformedLogin.status).toBe(400);
    expectNoInternals(malformedLogin.body);
  });

  it('needs credentials for the API docs too', async () => {
    expect((await t.anonymous.get('/api/docs-json')).status).toBe(401);
    expect((await t.anonymous.get('/api/docs')).status).toBe(401);
    const viewer = await t.as('viewer');
    const docs = await viewer.get('/api/docs-json').expect(200);
    expect(docs.body.paths['/api/v1/auth/login']).toBeDefined();
  });
});

describe.skipIf(!hasOpenssl())('over TLS (TETHER_TLS_CERT / TETHER_TLS_KEY)', () => {
  let t: StartedApp;
  let dir: string;
  let cert: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-tls-'));
    // A self-signed certificate for 127.0.0.1, made for this test only.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    t = await startApp({
      env: { TETHER_TLS_CERT: join(dir, 'cert.pem'), TETHER_TLS_KEY: join(dir, 'key.pem') },
    });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS and marks the session cookie Secure, with HSTS', async () => {
    expect(t.url.startsWith('https://')).toBe(true);
    const res = await supertest(t.url)
      .post('/api/v1/auth/login')
      .ca(cert)
      .send({ username: 'admin', password: TEST_ADMIN_PASSWORD })
      .expect(200);
    const cookie = ([] as string[])
      .concat(res.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('tether_session='));
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['content-security-policy']).toContain('upgrade-insecure-requests');
    const me = await supertest(t.url)
      .get('/api/v1/auth/me')
      .ca(cert)
      .set('Cookie', cookie!.split(';')[0])
      .expect(200);
    expect(me.body.username).toBe('admin');
  });
});
