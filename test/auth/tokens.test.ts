// API tokens (issue 4, points 1, 3 and 8): shown once, stored as SHA-256 hashes (issue 8, point 9), revocable at once, last use recorded,
// and a token's role is all it can do.
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME } from '../../src/runtime/runtime.module.js';
import type { ProxyRuntimeApi } from '../../src/runtime/types.js';
import { TEST_ADMIN_PASSWORD } from '../helpers/auth.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { readDatabase } from '../helpers/sqlite.js';
import { LAST_USED_RESOLUTION_MS, MAX_TOKENS_PER_USER } from '../../src/tokens/tokens.service.js';

describe('API tokens', () => {
  let t: StartedApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('shows a token once, lists it without its secret, and stores only a SHA-256 hash', async () => {
    const created = await t.request.post('/api/v1/tokens').send({ name: 'ci deploy', role: 'operator' });
    expect(created.status).toBe(201);
    const { id, token } = created.body as { id: number; token: string };
    expect(token).toMatch(new RegExp(`^tth_${id}_[A-Za-z0-9_-]{43}$`));
    expect(created.body).toMatchObject({
      name: 'ci deploy',
      role: 'operator',
      createdBy: 'admin',
      lastUsedAt: null,
    });

    const list = await t.request.get('/api/v1/tokens').expect(200);
    const listed = (list.body as Record<string, unknown>[]).find((x) => x.id === id)!;
    expect(Object.keys(listed).sort()).toEqual([
      'createdAt',
      'createdBy',
      'id',
      'lastUsedAt',
      'name',
      'role',
    ]);
    expect(JSON.stringify(list.body)).not.toContain(token.slice(-43));

    const secret = token.slice(-43);
    readDatabase(t.dbPath, (db) => {
      const row = db.prepare('SELECT secretHash FROM api_tokens WHERE id = ?').get(id) as {
        secretHash: string;
      };
      expect(row.secretHash).toMatch(/^sha256\$[0-9a-f]{64}$/);
      // Neither the token nor the admin password appears anywhere in the database file's tables.
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
      }[]) {
        const dump = JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all());
        expect(dump, name).not.toContain(secret);
        expect(dump, name).not.toContain(TEST_ADMIN_PASSWORD);
      }
    });
  });

  it('stops accepting a revoked token on the very next request', async () => {
    const { id, token } = (
      await t.request.post('/api/v1/tokens').send({ name: 'short-lived', role: 'viewer' })
    ).body;
    const asToken = () => supertest(t.url).get('/api/v1/frontends').set('Authorization', `Bearer ${token}`);
    expect((await asToken()).status).toBe(200);
    await t.request.delete(`/api/v1/tokens/${id}`).expect(204);
    const refused = await asToken();
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/revoked|not valid/);
    expect((await t.request.get('/api/v1/tokens')).body.map((x: { id: number }) => x.id)).not.toContain(id);
    await t.request.delete(`/api/v1/tokens/${id}`).expect(404);
  });

  it('refuses a token whose secret is wrong, even with a valid id', async () => {
    const { token } = (await t.request.post('/api/v1/tokens').send({ name: 'tampered', role: 'admin' })).body;
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    const res = await supertest(t.url)
      .get('/api/v1/frontends')
      .set('Authorization', `Bearer ${token.slice(0, -1)}${last}`);
    expect(res.status).toBe(401);
  });

  it('records when a token was last used', async () => {
    const { id, token } = (await t.request.post('/api/v1/tokens').send({ name: 'poller', role: 'viewer' }))
      .body;
    const lastUsed = async () =>
      ((await t.request.get('/api/v1/tokens')).body as { id: number; lastUsedAt: string | null }[]).find(
        (x) => x.id === id,
      )!.lastUsedAt;
    expect(await lastUsed()).toBeNull();
    const before = Date.now();
    await supertest(t.url).get('/api/v1/stats').set('Authorization', `Bearer ${token}`).expect(200);
    const first = await lastUsed();
    expect(first).not.toBeNull();
    expect(Date.parse(first!)).toBeGreaterThanOrEqual(before - 1000);
    // Within LAST_USED_RESOLUTION_MS a use writes nothing (no write per request); after it, the time moves.
    await supertest(t.url).get('/api/v1/stats').set('Authorization', `Bearer ${token}`).expect(200);
    const within = Date.now() - Date.parse(first!) < LAST_USED_RESOLUTION_MS;
    if (within) expect(await lastUsed()).toBe(first); // (a machine slow enough to take a second is not the case)
    await new Promise((r) => setTimeout(r, LAST_USED_RESOLUTION_MS + 20));
    await supertest(t.url).get('/api/v1/stats').set('Authorization', `Bearer ${token}`).expect(200);
    expect(Date.parse((await lastUsed())!)).toBeGreaterThanOrEqual(
      Date.parse(first!) + LAST_USED_RESOLUTION_MS,
    );
  });

  it('does not let a viewer token drain a server: 403, and the runtime state is unchanged', async () => {
    await t.request
      .post('/api/v1/backends')
      .send({
        name: 'ismg',
        check: { type: 'none' },
        servers: [{ name: 'gw1', address: '127.0.0.1', port: 9315 }],
      })
      .expect(201);
    const viewer = await t.as('viewer');
    const denied = await viewer.put('/api/v1/backends/ismg/servers/gw1/state').send({ state: 'drain' });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toMatch(/operator/);

    const runtime = t.app.get<ProxyRuntimeApi>(RUNTIME);
    const server = (await runtime.stats()).backends.find((b) => b.name === 'ismg')!.servers[0];
    expect(server.adminState).toBe('ready');
    expect((await t.request.get('/api/v1/backends/ismg/servers/gw1')).body.adminState).toBe('ready');

    const audit = await t.request.get('/api/v1/audit').query({ result: 'denied', user: 'token:test-viewer' });
    expect(audit.body.items[0]).toMatchObject({
      action: 'server.state',
      target: 'ismg/gw1',
      role: 'viewer',
      result: 'denied',
      sourceAddress: '127.0.0.1',
    });

    // The same call with an operator token works, so the 403 was about the role.
    const operator = await t.as('operator');
    await operator.put('/api/v1/backends/ismg/servers/gw1/state').send({ state: 'drain' }).expect(200);
    const drained = (await runtime.stats()).backends.find((b) => b.name === 'ismg')!.servers[0];
    expect(drained.adminState).toBe('drain');
  });

  it('caps the tokens one user holds at MAX_TOKENS_PER_USER, even when they are asked for all at once', async () => {
    const created = await t.request
      .post('/api/v1/users')
      .send({ username: 'automation', password: 'automation-password-1', role: 'admin' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const login = await t.request
      .post('/api/v1/auth/login')
      .send({ username: 'automation', password: 'automation-password-1' });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const as = supertest(t.url);
    const make = (i: number) =>
      as
        .post('/api/v1/tokens')
        .set('Authorization', `Bearer ${login.body.token as string}`)
        .send({ name: `job ${i}`, role: 'viewer' });
    // Ten more than the cap, ten at a time: exactly the cap succeeds.
    const statuses: number[] = [];
    for (let batch = 0; batch < (MAX_TOKENS_PER_USER + 10) / 10; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => make(batch * 10 + i)));
      statuses.push(...answers.map((a) => a.status));
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(MAX_TOKENS_PER_USER);
    expect(statuses.filter((s) => s === 409)).toHaveLength(10);
    const refused = await make(999);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain(`${MAX_TOKENS_PER_USER} tokens`);
    // Revoking one makes room for one.
    const mine = (await t.request.get('/api/v1/tokens')).body as Array<{ id: number; name: string }>;
    const first = mine.find((token) => token.name === 'job 0')!;
    expect((await t.request.delete(`/api/v1/tokens/${first.id}`)).status).toBe(204);
    expect((await make(1000)).status).toBe(201);
  });

  it('validates token creation and needs admin for it', async () => {
    const bad = await t.request.post('/api/v1/tokens').send({ name: 'x', role: 'root' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.message)).toContain('role');
    const operator = await t.as('operator');
    expect((await operator.post('/api/v1/tokens').send({ name: 'escalate', role: 'admin' })).status).toBe(
      403,
    );
  });
});
