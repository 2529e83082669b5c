// Credentials are checked when a request arrives, but the request acts later: after its body has been read (which a
// client can stretch over minutes) and, for user changes, after the changes queued before it. A user deleted or
// demoted in between must not act with the power it had: the backdoor admin below must never be created.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { requestFrom } from '../helpers/http-from.js';

interface UserRow {
  username: string;
  role: string;
}

/** A POST whose headers (credentials included) go now and whose body goes when `finish` is called. */
function slowPost(url: string, path: string, bearer: string, body: string) {
  const { host, port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${bearer}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
      body.slice(0, 5),
  );
  return {
    async finish(): Promise<number> {
      socket.write(body.slice(5));
      const timeout = setTimeout(() => socket.destroy(), 10_000);
      await closed;
      clearTimeout(timeout);
      return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
    },
  };
}

describe('credentials that change while a request is in flight', () => {
  let t: StartedApp;
  let round = 0;

  beforeAll(async () => {
    t = await startApp({ env: { TETHER_LOGIN_ATTEMPTS_PER_MINUTE: '1000' } });
  });
  afterAll(() => t?.close());

  /** A fresh admin user with an admin API token of theirs. */
  async function adminWithToken(): Promise<{ username: string; token: string }> {
    const username = `insider${++round}`;
    const password = `insider-password-${round}`;
    await t.request.post('/api/v1/users').send({ username, password, role: 'admin' }).expect(201);
    const login = await requestFrom(t.url, '/api/v1/auth/login', {
      method: 'POST',
      body: JSON.stringify({ username, password }),
    });
    const bearer = (login.json as { token: string }).token;
    const made = await requestFrom(t.url, '/api/v1/tokens', {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ name: `script of ${username}`, role: 'admin' }),
    });
    expect(made.status).toBe(201);
    return { username, token: (made.json as { token: string }).token };
  }

  const usernames = async (): Promise<string[]> =>
    ((await t.request.get('/api/v1/users').expect(200)).body as UserRow[]).map((u) => u.username);

  const backdoor = (name: string) =>
    JSON.stringify({ username: name, password: 'backdoor-pw-1', role: 'admin' });

  it('refuses a body that finishes arriving after its sender was deleted', async () => {
    const insider = await adminWithToken();
    const pending = slowPost(t.url, '/api/v1/users', insider.token, backdoor('backdoor1'));
    // Give the server time to authenticate the headers and start waiting for the body.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await t.request.delete(`/api/v1/users/${insider.username}`).expect(204);
    expect(await pending.finish()).toBe(401);
    expect(await usernames()).not.toContain('backdoor1');
  });

  it('refuses a body that finishes arriving after its sender was demoted', async () => {
    const insider = await adminWithToken();
    const pending = slowPost(t.url, '/api/v1/users', insider.token, backdoor('backdoor2'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await t.request.patch(`/api/v1/users/${insider.username}`).send({ role: 'viewer' }).expect(200);
    expect(await pending.finish()).toBe(403);
    expect(await usernames()).not.toContain('backdoor2');
  });

  it('refuses a user change queued behind the deletion of its sender', async () => {
    const insider = await adminWithToken();
    await t.request
      .post('/api/v1/users')
      .send({ username: 'busy', password: 'busy-password-1', role: 'viewer' });
    const admin = { authorization: `Bearer ${await t.tokenFor('admin')}` };
    const send = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
      requestFrom(t.url, path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    // User changes run one at a time; each password change hashes for a while, holding the queue.
    const holding = Array.from({ length: 8 }, (_, i) =>
      send('PATCH', '/api/v1/users/busy', admin, { password: `busy-password-${i + 2}` }),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const deletion = send('DELETE', `/api/v1/users/${insider.username}`, admin);
    // Well inside the ~8 hashes still queued ahead of the deletion, and well after the deletion got in line.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const create = requestFrom(t.url, '/api/v1/users', {
      method: 'POST',
      headers: { authorization: `Bearer ${insider.token}` },
      body: backdoor('backdoor3'),
    });
    const [deleted, created, ...held] = await Promise.all([deletion, create, ...holding]);
    expect(held.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    expect(deleted.status).toBe(204);
    expect(created.status, created.text).toBe(401);
    expect(await usernames()).not.toContain('backdoor3');
  });
});
