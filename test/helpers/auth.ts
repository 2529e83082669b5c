// Credentials for tests that talk to the real app: the known admin password startApp boots with, logging in, and
// role tokens made through the API itself.
import supertest from 'supertest';
import type { Role } from '../../src/auth/roles.js';

export const TEST_ADMIN_PASSWORD = 'test-admin-password-0123';

export type Client = ReturnType<typeof supertest.agent>;

/** POST /api/v1/auth/login; the login bearer token on success, an Error otherwise. */
export async function loginToken(url: string, username: string, password: string): Promise<string> {
  const res = await supertest(url).post('/api/v1/auth/login').send({ username, password });
  if (res.status !== 200)
    throw new Error(`login as ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { token: string }).token;
}

/** A supertest agent that sends `Authorization: Bearer <token>` with every request. */
export function withBearer(url: string, token: string): Client {
  return supertest.agent(url).set('Authorization', `Bearer ${token}`);
}

/** A client of the app at `url` signed in as admin with the test password. */
export async function adminClient(url: string): Promise<Client> {
  return withBearer(url, await loginToken(url, 'admin', TEST_ADMIN_PASSWORD));
}

/** API tokens for each role, made once per app by the admin and reused. */
export function roleTokens(url: string, admin: Client) {
  const tokens = new Map<Role, Promise<string>>();
  const tokenFor = (role: Role): Promise<string> => {
    let token = tokens.get(role);
    if (!token) {
      token = admin
        .post('/api/v1/tokens')
        .send({ name: `test-${role}`, role })
        .then((res) => {
          if (res.status !== 201)
            throw new Error(`token for ${role}: ${res.status} ${JSON.stringify(res.body)}`);
          return (res.body as { token: string }).token;
        });
      tokens.set(role, token);
    }
    return token;
  };
  const as = async (role: Role): Promise<Client> => withBearer(url, await tokenFor(role));
  return { tokenFor, as };
}
