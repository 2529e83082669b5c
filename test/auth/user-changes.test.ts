// Issue 8, points 5 and 6: the last admin survives concurrent demotions and deletions, and a user's tokens and logins
// never keep more power than the user now has (deleted: all gone; demoted: tokens capped, logins ended).
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { loginToken, TEST_ADMIN_PASSWORD, withBearer } from '../helpers/auth.js';

interface UserRow {
  username: string;
  role: string;
}

describe('user changes', () => {
  let t: StartedApp;

  beforeAll(async () => {
    // Every round logs in again: lift the per-minute login limit out of the way.
    t = await startApp({ env: { TETHER_LOGIN_ATTEMPTS_PER_MINUTE: '1000' } });
  });
  afterAll(() => t?.close());

  const adminsSeenBy = async (client: ReturnType<typeof withBearer>): Promise<string[]> =>
    ((await client.get('/api/v1/users').expect(200)).body as UserRow[])
      .filter((u) => u.role === 'admin')
      .map((u) => u.username);

  // The second admin of the concurrency tests.
  const ADA_PASSWORD = 'second-admin-pw-1';

  /** Fresh logins of the two admins, made at once: [admin's bearer, ada's bearer]. */
  const logInBothAdmins = () =>
    Promise.all([loginToken(t.url, 'admin', TEST_ADMIN_PASSWORD), loginToken(t.url, 'ada', ADA_PASSWORD)]);

  /** admin demotes ada over its own connection; setting her password too puts a hash between check and write. */
  const demoteAda = (asAdmin: string) =>
    supertest(t.url)
      .patch('/api/v1/users/ada')
      .set('Authorization', `Bearer ${asAdmin}`)
      .send({ role: 'viewer', password: ADA_PASSWORD });

  /** Adds an admin and signs it in: its console cookie and a client sending its login bearer. */
  async function signedInAdmin(username: string, password: string) {
    await t.request.post('/api/v1/users').send({ username, password, role: 'admin' }).expect(201);
    const login = await supertest(t.url).post('/api/v1/auth/login').send({ username, password }).expect(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    return { cookie, client: withBearer(t.url, login.body.token as string) };
  }

  /** Both of a user's logins are over: the login bearer and the console cookie. */
  async function expectLoginsEnded(client: ReturnType<typeof withBearer>, cookie: string) {
    expect((await client.get('/api/v1/auth/me')).status).toBe(401);
    expect((await supertest(t.url).get('/api/v1/auth/me').set('Cookie', cookie)).status).toBe(401);
  }

  // The check and the write were two steps with an await between them (a password hash, when the same PATCH also
  // sets a password): two changes that each left one admin could both pass the check.
  it('lets only one of two concurrent demotions of the last two admins through', async () => {
    await t.request
      .post('/api/v1/users')
      .send({ username: 'ada', password: ADA_PASSWORD, role: 'admin' })
      .expect(201);
    for (let round = 0; round < 6; round++) {
      // Each admin demotes the other, at the same moment, over its own connection.
      const [asAdmin, asAda] = await logInBothAdmins();
      const answers = await Promise.all([
        demoteAda(asAdmin),
        supertest(t.url)
          .patch('/api/v1/users/admin')
          .set('Authorization', `Bearer ${asAda}`)
          .send({ role: 'viewer', password: TEST_ADMIN_PASSWORD }),
      ]);
      const statuses = answers.map((a) => a.status);
      expect(
        statuses.filter((s) => s === 200),
        `round ${round}: ${statuses}`,
      ).toHaveLength(1);
      expect(statuses.find((s) => s !== 200)).toBeOneOf([401, 403, 409]);
      const survivor = withBearer(t.url, statuses[0] === 200 ? asAdmin : asAda);
      const left = await adminsSeenBy(survivor);
      expect(left, `round ${round}`).toEqual([statuses[0] === 200 ? 'admin' : 'ada']);
      await survivor
        .patch(`/api/v1/users/${left[0] === 'admin' ? 'ada' : 'admin'}`)
        .send({ role: 'admin' })
        .expect(200);
    }
  });

  it('lets only one of a concurrent demotion and deletion of the last two admins through', async () => {
    for (let round = 0; round < 6; round++) {
      const [asAdmin, asAda] = await logInBothAdmins();
      const answers = await Promise.all([
        demoteAda(asAdmin),
        supertest(t.url).delete('/api/v1/users/admin').set('Authorization', `Bearer ${asAda}`),
      ]);
      const statuses = answers.map((a) => a.status);
      const demoted = statuses[0] === 200;
      const deleted = statuses[1] === 204;
      expect(demoted !== deleted, `round ${round}: ${statuses}`).toBe(true);
      const survivor = withBearer(t.url, demoted ? asAdmin : asAda);
      expect(await adminsSeenBy(survivor), `round ${round}`).toEqual([demoted ? 'admin' : 'ada']);
      // Back to two admins for the next round.
      if (demoted) await survivor.patch('/api/v1/users/ada').send({ role: 'admin' }).expect(200);
      else
        await survivor
          .post('/api/v1/users')
          .send({ username: 'admin', password: TEST_ADMIN_PASSWORD, role: 'admin' })
          .expect(201);
    }
    t = { ...t, request: withBearer(t.url, await loginToken(t.url, 'admin', TEST_ADMIN_PASSWORD)) };
  });

  it("revokes a deleted user's tokens (and the tokens those made) and ends the user's logins", async () => {
    const { cookie, client: ann } = await signedInAdmin('ann', 'ann-password-1');
    const token = (await ann.post('/api/v1/tokens').send({ name: 'ann-ci', role: 'admin' }).expect(201)).body
      .token;
    const byToken = withBearer(t.url, token);
    const child = (
      await byToken.post('/api/v1/tokens').send({ name: 'ann-child', role: 'admin' }).expect(201)
    ).body.token;
    // The token really has admin power while ann has it.
    await byToken
      .post('/api/v1/users')
      .send({ username: 'made-by-ann', password: 'pw-0123456', role: 'viewer' })
      .expect(201);

    await t.request.delete('/api/v1/users/ann').expect(204);
    for (const gone of [token, child]) {
      const res = await supertest(t.url)
        .post('/api/v1/users')
        .set('Authorization', `Bearer ${gone}`)
        .send({ username: 'escalated', password: 'pw-0123456', role: 'admin' });
      expect(res.status).toBe(401);
    }
    await expectLoginsEnded(ann, cookie);
    const names = ((await t.request.get('/api/v1/tokens').expect(200)).body as { name: string }[]).map(
      (x) => x.name,
    );
    expect(names).not.toContain('ann-ci');
    expect(names).not.toContain('ann-child');
    await t.request.get('/api/v1/users/escalated').expect(404);
  });

  it("caps a demoted user's tokens at the new role and ends the user's logins", async () => {
    const { cookie, client: bob } = await signedInAdmin('bob', 'bob-password-1');
    const created = (await bob.post('/api/v1/tokens').send({ name: 'bob-ci', role: 'admin' }).expect(201))
      .body;
    const byToken = withBearer(t.url, created.token);
    await byToken.get('/api/v1/users').expect(200);

    await t.request.patch('/api/v1/users/bob').send({ role: 'viewer' }).expect(200);
    // The token can no longer do admin things, nor operator things, but still reads.
    expect((await byToken.get('/api/v1/users')).status).toBe(403);
    expect(
      (
        await byToken
          .post('/api/v1/users')
          .send({ username: 'escalated2', password: 'pw-0123456', role: 'admin' })
      ).status,
    ).toBe(403);
    expect((await byToken.post('/api/v1/tokens').send({ name: 'sneaky', role: 'admin' })).status).toBe(403);
    await byToken.get('/api/v1/frontends').expect(200);
    const me = await byToken.get('/api/v1/auth/me').expect(200);
    expect(me.body.role).toBe('viewer');
    const listed = ((await t.request.get('/api/v1/tokens')).body as { id: number; role: string }[]).find(
      (x) => x.id === created.id,
    );
    expect(listed?.role).toBe('viewer');
    // Bob's console login and login bearer are over.
    await expectLoginsEnded(bob, cookie);
    // Promoting bob again does not give the capped token its old power back.
    await t.request.patch('/api/v1/users/bob').send({ role: 'admin' }).expect(200);
    expect((await byToken.get('/api/v1/users')).status).toBe(403);
  });
});
