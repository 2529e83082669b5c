// Issue 8, point 11: the stats event stream re-checks its credentials every couple of seconds (a revoked token, an
// ended login or a deleted user ends it) and each user holds at most 8 streams at once (429 beyond).
import http from 'node:http';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_RECHECK_MS, STREAMS_PER_USER, StreamAccess } from '../../src/auth/stream-access.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { loginToken } from '../helpers/auth.js';

interface OpenStream {
  status: number;
  retryAfter?: string;
  /** Resolves with the time the server ended the stream. */
  ended: Promise<number>;
  /** Bytes received so far. */
  received(): number;
  close(): void;
}

function openStream(url: string, headers: Record<string, string>): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      `${url}/api/v1/stats/stream`,
      { headers: { accept: 'text/event-stream', ...headers }, agent: false },
      (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        const ended = new Promise<number>((done) => {
          response.on('end', () => done(Date.now()));
          response.on('close', () => done(Date.now()));
          response.on('error', () => done(Date.now()));
        });
        resolve({
          status: response.statusCode ?? 0,
          retryAfter: response.headers['retry-after'] as string | undefined,
          ended,
          received: () => bytes,
          close: () => request.destroy(),
        });
      },
    );
    request.on('error', reject);
  });
}

/** Resolves with how long after `from` the stream ended, or rejects after `limitMs`. */
async function endsWithin(stream: OpenStream, from: number, limitMs: number): Promise<number> {
  const timeout = new Promise<never>((_, fail) =>
    setTimeout(() => fail(new Error(`stream still open after ${limitMs} ms`)), limitMs).unref(),
  );
  return (await Promise.race([stream.ended, timeout])) - from;
}

const LIMIT_MS = STREAM_RECHECK_MS + 3000;

describe('stats stream credentials', () => {
  let t: StartedApp;

  beforeAll(async () => {
    t = await startApp({ env: { TETHER_LOGIN_ATTEMPTS_PER_MINUTE: '1000' } });
  });
  afterAll(() => t?.close());

  const user = async (username: string, role = 'viewer') => {
    await t.request.post('/api/v1/users').send({ username, password: 'pw-0123456789', role }).expect(201);
    return loginToken(t.url, username, 'pw-0123456789');
  };

  it('ends a stream within a few seconds of its token being revoked', async () => {
    const made = await t.request
      .post('/api/v1/tokens')
      .send({ name: 'stream-ci', role: 'viewer' })
      .expect(201);
    const stream = await openStream(t.url, { authorization: `Bearer ${made.body.token}` });
    expect(stream.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(stream.received()).toBeGreaterThan(0);
    const revokedAt = Date.now();
    await t.request.delete(`/api/v1/tokens/${made.body.id}`).expect(204);
    const after = await endsWithin(stream, revokedAt, LIMIT_MS);
    console.log(`stream ended ${after} ms after its token was revoked`);
  });

  it('ends a console stream when its login is logged out, and a stream of a deleted user', async () => {
    await user('carla');
    const login = await supertest(t.url)
      .post('/api/v1/auth/login')
      .send({ username: 'carla', password: 'pw-0123456789' })
      .expect(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    const byCookie = await openStream(t.url, { cookie });
    expect(byCookie.status).toBe(200);
    const bearer = await loginToken(t.url, 'carla', 'pw-0123456789');
    const byBearer = await openStream(t.url, { authorization: `Bearer ${bearer}` });
    expect(byBearer.status).toBe(200);

    const loggedOutAt = Date.now();
    await supertest(t.url).post('/api/v1/auth/logout').set('Cookie', cookie).expect(204);
    await endsWithin(byCookie, loggedOutAt, LIMIT_MS);

    const deletedAt = Date.now();
    await t.request.delete('/api/v1/users/carla').expect(204);
    await endsWithin(byBearer, deletedAt, LIMIT_MS);
  });

  it(`holds at most ${STREAMS_PER_USER} streams per user: 429 beyond, other users unaffected`, async () => {
    const dora = await user('dora');
    const streams: OpenStream[] = [];
    try {
      for (let i = 0; i < STREAMS_PER_USER; i++) {
        const stream = await openStream(t.url, { authorization: `Bearer ${dora}` });
        streams.push(stream);
        expect(stream.status).toBe(200);
      }
      // Another login of the same user counts too.
      const second = await loginToken(t.url, 'dora', 'pw-0123456789');
      const refused = await openStream(t.url, { authorization: `Bearer ${second}` });
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      await refused.ended;
      const other = await openStream(t.url, { authorization: `Bearer ${await user('emil')}` });
      expect(other.status).toBe(200);
      other.close();
      // Closing one makes room for another.
      streams.shift()!.close();
      const deadline = Date.now() + 5000;
      let again: OpenStream;
      for (;;) {
        again = await openStream(t.url, { authorization: `Bearer ${second}` });
        if (again.status === 200 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(again.status).toBe(200);
      streams.push(again);
    } finally {
      for (const stream of streams) stream.close();
    }
    // Nothing is left held once every stream is closed.
    const access = t.app.get(StreamAccess, { strict: false });
    const deadline = Date.now() + 5000;
    while (access.holders > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(access.holders).toBe(0);
  });
});
