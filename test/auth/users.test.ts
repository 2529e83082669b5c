// Users (issue 4, point 1): admin-only management, no password ever returned, no way to lock every admin out.
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { loginToken, TEST_ADMIN_PASSWORD, withBearer } from '../helpers/auth.js';

const login = (url: string, username: string, password: string) =>
  supertest(url).post('/api/v1/auth/login').send({ username, password });

describe('users', () => {
  let t: StartedApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('creates, lists, changes and deletes users without ever returning a password', async () => {
    const created = await t.request
      .post('/api/v1/users')
      .send({ username: 'vera', password: 'vera-password-1', role: 'viewer' })
      .expect(201);
    expect(Object.keys(created.body).sort()).toEqual(['createdAt', 'id', 'role', 'updatedAt', 'username']);
    const list = await t.request.get('/api/v1/users').expect(200);
    expect(list.body.map((u: { username: string }) => u.username)).toEqual(['admin', 'vera']);
    expect(JSON.stringify(list.body)).not.toMatch(/password|scrypt/i);

    const vera = await login(t.url, 'vera', 'vera-password-1').expect(200);
    expect(vera.body.user).toEqual({ username: 'vera', role: 'viewer' });

    // A role change applies to her live login at once.
    await t.request.patch('/api/v1/users/vera').send({ role: 'operator' }).expect(200);
    const me = await supertest(t.url)
      .get('/api/v1/auth/me')
      .set('Authorization', `Bearer ${vera.body.token}`);
    expect(me.body.role).toBe('operator');

    // A password change ends her logins and only the new password works.
    await t.request.patch('/api/v1/users/vera').send({ password: 'vera-password-2' }).expect(200);
    expect(
      (await supertest(t.url).get('/api/v1/auth/me').set('Authorization', `Bearer ${vera.body.token}`))
        .status,
    ).toBe(401);
    expect((await login(t.url, 'vera', 'vera-password-1')).status).toBe(401);
    expect((await login(t.url, 'vera', 'vera-password-2')).status).toBe(200);

    await t.request.delete('/api/v1/users/vera').expect(204);
    expect((await login(t.url, 'vera', 'vera-password-2')).status).toBe(401);
    await t.request.get('/api/v1/users/vera').expect(404);
  });

  it('rejects duplicate names, short passwords and unknown roles, naming the field', async () => {
    const dup = await t.request
      .post('/api/v1/users')
      .send({ username: 'admin', password: 'whatever-123', role: 'admin' });
    expect(dup.status).toBe(409);
    expect(dup.body.message).toContain('admin');
    const short = await t.request
      .post('/api/v1/users')
      .send({ username: 'sam', password: 'short', role: 'viewer' });
    expect(short.status).toBe(400);
    expect(JSON.stringify(short.body.message)).toContain('password');
    const role = await t.request
      .post('/api/v1/users')
      .send({ username: 'sam', password: 'long-enough-1', role: 'root' });
    expect(role.status).toBe(400);
    expect(JSON.stringify(role.body.message)).toContain('role');
    const extra = await t.request
      .post('/api/v1/users')
      .send({ username: 'sam', password: 'long-enough-1', role: 'viewer', passwordHash: 'x' });
    expect(extra.status).toBe(400);
  });

  it('does not let an admin delete themselves or remove the last admin', async () => {
    // t.request is logged in as the user admin.
    const self = await t.request.delete('/api/v1/users/admin');
    expect(self.status).toBe(400);
    expect(self.body.message).toMatch(/logged in as/);
    // Through an admin API token (not "yourself"), the last-admin rule still holds.
    const adminToken = await t.as('admin');
    const last = await adminToken.delete('/api/v1/users/admin');
    expect(last.status).toBe(409);
    expect(last.body.message).toMatch(/last admin/);
    expect((await adminToken.patch('/api/v1/users/admin').send({ role: 'viewer' })).status).toBe(409);
    // With a second admin, the first can be demoted: its login ends and its token is capped (issue 8, point 6).
    await adminToken
      .post('/api/v1/users')
      .send({ username: 'ada', password: 'ada-password-1', role: 'admin' })
      .expect(201);
    const ada = withBearer(t.url, await loginToken(t.url, 'ada', 'ada-password-1'));
    await ada.patch('/api/v1/users/admin').send({ role: 'operator' }).expect(200);
    expect((await t.request.get('/api/v1/users')).status).toBe(401);
    expect((await adminToken.get('/api/v1/users')).status).toBe(403);
    await ada.patch('/api/v1/users/admin').send({ role: 'admin' }).expect(200);
    const again = withBearer(t.url, await loginToken(t.url, 'admin', TEST_ADMIN_PASSWORD));
    expect((await again.get('/api/v1/users')).status).toBe(200);
  });
});
