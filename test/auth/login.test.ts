// Console logins (issue 4, point 4): cookie flags, the login bearer, idle expiry, logout, throttling per source
// address, and failed logins in the audit log.
import http from 'node:http';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_PASSWORD, type Client } from '../helpers/auth.js';
import { startApp, type StartedApp } from '../helpers/app.js';

/** POST /api/v1/auth/login from a chosen loopback source address (127.0.0.X counts as another client). */
function loginFrom(url: string, localAddress: string, username: string, password: string): Promise<number> {
  return loginResponseFrom(url, localAddress, username, password).then((res) => res.statusCode ?? 0);
}

function loginResponseFrom(
  url: string,
  localAddress: string,
  username: string,
  password: string,
): Promise<http.IncomingMessage> {
  const body = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL('/api/v1/auth/login', url),
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function sessionCookie(setCookie: string[] | string | undefined): string {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const cookie = all.find((c) => c.startsWith('tether_session='));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(all)}`);
  return cookie;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('console login', () => {
  let t: StartedApp;
  // startApp's own login would idle out with a 2 s timeout: work through an admin API token instead.
  let admin: Client;

  beforeAll(async () => {
    t = await startApp({ env: { TETHER_SESSION_IDLE_SECONDS: '2' } });
    admin = await t.as('admin');
  });
  afterAll(() => t?.close());

  it('sets an HttpOnly, SameSite=Strict session cookie (not Secure over plain HTTP) and returns a bearer token', async () => {
    const res = await supertest(t.url)
      .post('/api/v1/auth/login')
      .send({ username: 'admin', password: TEST_ADMIN_PASSWORD })
      .expect(200);
    const cookie = sessionCookie(res.headers['set-cookie']);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    expect(cookie).toMatch(/; Path=\//i);
    expect(cookie).toMatch(/; Max-Age=\d+/i);
    expect(cookie).not.toMatch(/; Secure/i);
    expect(res.body.user).toEqual({ username: 'admin', role: 'admin' });
    expect(res.body.token).toMatch(/^tts_/);
    const expiresIn = Date.parse(res.body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(60_000);
    expect(expiresIn).toBeLessThanOrEqual(15 * 60_000);
    expect(JSON.stringify(res.body)).not.toContain(cookie.split(';')[0].split('=')[1]);

    const me = await supertest(t.url).get('/api/v1/auth/me').set('Cookie', cookie.split(';')[0]).expect(200);
    expect(me.body).toEqual({ username: 'admin', role: 'admin', via: 'session' });
    const viaBearer = await supertest(t.url)
      .get('/api/v1/auth/me')
      .set('Authorization', `Bearer ${res.body.token}`);
    expect(viaBearer.status).toBe(200);
  });

  it('answers a wrong password with 401 and records the attempt with its source address', async () => {
    const res = await supertest(t.url)
      .post('/api/v1/auth/login')
      .send({ username: 'mallory', password: 'guess-1234' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'wrong username or password',
      code: 'UNAUTHENTICATED',
      errors: [{ field: '', code: 'UNAUTHENTICATED', message: 'wrong username or password' }],
    });
    expect(res.headers['set-cookie']).toBeUndefined();
    const audit = await admin
      .get('/api/v1/audit')
      .query({ action: 'auth.login', result: 'denied' })
      .expect(200);
    const entry = audit.body.items.find((e: { target?: string }) => e.target === 'mallory');
    expect(entry).toMatchObject({ action: 'auth.login', result: 'denied', sourceAddress: '127.0.0.1' });
    expect(JSON.stringify(audit.body)).not.toContain('guess-1234');
  });

  it('ends a session left idle longer than the idle timeout, and slides it while in use', async () => {
    const res = await supertest(t.url)
      .post('/api/v1/auth/login')
      .send({ username: 'admin', password: TEST_ADMIN_PASSWORD })
      .expect(200);
    const cookie = sessionCookie(res.headers['set-cookie']).split(';')[0];
    const me = () => supertest(t.url).get('/api/v1/auth/me').set('Cookie', cookie);
    // Used every 0.8 s for 3.2 s, longer than the 2 s idle timeout: still alive.
    for (let i = 0; i < 4; i++) {
      await sleep(800);
      expect((await me()).status).toBe(200);
    }
    await sleep(2600);
    const expired = await me();
    expect(expired.status).toBe(401);
    expect(expired.body.message).toMatch(/expired|log in again/);
    // The bearer token of that login ended with it.
    expect(
      (await supertest(t.url).get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.token}`)).status,
    ).toBe(401);
  });

  it('logs out: the cookie and the bearer of that login stop working, and the cookie is cleared', async () => {
    const res = await supertest(t.url)
      .post('/api/v1/auth/login')
      .send({ username: 'admin', password: TEST_ADMIN_PASSWORD })
      .expect(200);
    const cookie = sessionCookie(res.headers['set-cookie']).split(';')[0];
    await supertest(t.url).get('/api/v1/stats').set('Cookie', cookie).expect(200);
    const out = await supertest(t.url).post('/api/v1/auth/logout').set('Cookie', cookie).expect(204);
    expect(sessionCookie(out.headers['set-cookie'])).toMatch(/tether_session=;|Expires=Thu, 01 Jan 1970/);
    expect((await supertest(t.url).get('/api/v1/stats').set('Cookie', cookie)).status).toBe(401);
    expect(
      (await supertest(t.url).get('/api/v1/stats').set('Authorization', `Bearer ${res.body.token}`)).status,
    ).toBe(401);
    const audit = await admin
      .get('/api/v1/audit')
      .query({ action: 'auth.logout', user: 'admin' })
      .expect(200);
    expect(audit.body.items.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a cookie-authenticated change coming from another site', async () => {
    const res = await supertest(t.url)
      .post('/api/v1/auth/login')
      .send({ username: 'admin', password: TEST_ADMIN_PASSWORD })
      .expect(200);
    const cookie = sessionCookie(res.headers['set-cookie']).split(';')[0];
    const crossSite = await supertest(t.url)
      .post('/api/v1/tokens')
      .set('Cookie', cookie)
      .set('Origin', 'http://evil.example')
      .send({ name: 'csrf', role: 'admin' });
    expect(crossSite.status).toBe(403);
    const sameSite = await supertest(t.url)
      .post('/api/v1/tokens')
      .set('Cookie', cookie)
      .set('Origin', t.url)
      .send({ name: 'console', role: 'viewer' });
    expect(sameSite.status).toBe(201);
  });

  it('throttles logins per source address: 429 after 10 attempts a minute, other addresses unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push(await loginFrom(t.url, '127.0.0.3', 'admin', `wrong-${i}-password`));
    expect(statuses).toEqual(Array(10).fill(401));
    const throttled = await loginResponseFrom(t.url, '127.0.0.3', 'admin', 'wrong-again-password');
    expect(throttled.statusCode).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password is refused from that address until the minute is over...
    expect(await loginFrom(t.url, '127.0.0.3', 'admin', TEST_ADMIN_PASSWORD)).toBe(429);
    // ...while another client logs in normally.
    expect(await loginFrom(t.url, '127.0.0.4', 'admin', TEST_ADMIN_PASSWORD)).toBe(200);
    const audit = await admin
      .get('/api/v1/audit')
      .query({ action: 'auth.login', result: 'denied', limit: 1000 });
    const from3 = audit.body.items.filter((e: { sourceAddress?: string }) => e.sourceAddress === '127.0.0.3');
    // Ten wrong passwords and one row counting the two throttled attempts (issue 8, point 8), none with a role.
    expect(from3).toHaveLength(11);
    const throttledRows = from3.filter((e: { detail?: string }) => e.detail?.startsWith('throttled'));
    expect(throttledRows).toHaveLength(1);
    expect(throttledRows[0].detail).toMatch(/^throttled: 2 attempt/);
    for (const e of from3) expect(e).toMatchObject({ actor: 'anonymous', role: 'none', target: 'admin' });
  });
});

describe('audit of access control', () => {
  let t: StartedApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('records user and token changes, filterable by user, action and time', async () => {
    const start = new Date().toISOString();
    await t.request
      .post('/api/v1/users')
      .send({ username: 'olga', password: 'olga-password-1', role: 'operator' });
    await t.request.patch('/api/v1/users/olga').send({ role: 'viewer' }).expect(200);
    await sleep(20);
    const middle = new Date().toISOString();
    await sleep(20);
    const olga = await supertest(t.url)
      .post('/api/v1/auth/login')
      .send({ username: 'olga', password: 'olga-password-1' });
    const asOlga = supertest.agent(t.url).set('Authorization', `Bearer ${olga.body.token}`);
    expect((await asOlga.post('/api/v1/tokens').send({ name: 'x', role: 'admin' })).status).toBe(403);
    await t.request.delete('/api/v1/users/olga').expect(204);

    const byAction = (await t.request.get('/api/v1/audit').query({ action: 'user.update' })).body.items;
    expect(byAction).toHaveLength(1);
    expect(byAction[0]).toMatchObject({ actor: 'admin', role: 'admin', target: 'olga', result: 'ok' });
    expect(byAction[0].detail).toContain('operator -> viewer');

    const byUser = (await t.request.get('/api/v1/audit').query({ user: 'olga' })).body.items;
    expect(byUser.map((e: { action: string; result: string }) => `${e.action} ${e.result}`)).toEqual([
      'token.create denied',
      'auth.login ok',
    ]);

    const since = (await t.request.get('/api/v1/audit').query({ from: middle })).body.items;
    const actions = since.map((e: { action: string }) => e.action);
    expect(actions).toContain('user.delete');
    expect(actions).not.toContain('user.create');
    const until = (await t.request.get('/api/v1/audit').query({ from: start, to: middle })).body.items;
    expect(until.map((e: { action: string }) => e.action).sort()).toEqual(['user.create', 'user.update']);
  });
});
