// A viewer can't knock the appliance over with one big document (issue 8, point 1): a config over
// the documented limits (docs/config-limits.md) is refused before any heavy work, a broken one
// within them is checked in one pass and reported by its first issues, and live traffic keeps
// flowing meanwhile. The app runs in this process, so a stalled event loop shows in the echo times.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/schema/fields.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { requestFrom } from '../helpers/http-from.js';
import type { Client } from '../helpers/auth.js';
import { connect, echo, freePort, listen, type TestServer } from '../helpers/net.js';
import {
  addLiveFrontend,
  backendBody,
  expectError,
  frontendBody,
  revisionCount,
  serverBody,
} from './fixtures.js';

// Bounds from the issue, for a shared 2-core machine: the refusal within 1 s, no echo slower than 50 ms.
const ANSWER_WITHIN_MS = 1000;
const ECHO_UNDER_MS = 50;
const ATTEMPTS = 8;

let t: StartedApp;
let upstream: TestServer;
let proxyPort: number;
let viewer: Client;
let viewerToken: string;

beforeAll(async () => {
  t = await startApp();
  viewer = await t.as('viewer');
  viewerToken = await t.tokenFor('viewer');
  upstream = await listen(echo);
  proxyPort = await addLiveFrontend(t, upstream.port);
});
afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

/** `count` frontends that all bind the one port of the live frontend, serialised ahead of time. */
function clashingDocument(count: number): string {
  const frontends = Array.from({ length: count }, (_, i) => frontendBody(`f${i}`, proxyPort, 'b'));
  return JSON.stringify({ backends: [backendBody('b', [serverBody('s1', upstream.port)])], frontends });
}

/** Round trips of one byte through the proxy, back to back, until `done` settles; the slowest one. */
async function slowestEchoWhile(
  session: Socket,
  done: Promise<unknown>,
): Promise<{ max: number; count: number }> {
  let finished = false;
  void done.finally(() => (finished = true));
  let max = 0;
  let count = 0;
  // Bounded: the request answers within seconds, and each round trip is at most a few.
  while (!finished && count < 100_000) {
    const start = performance.now();
    const echoed = new Promise<void>((resolve) => session.once('data', () => resolve()));
    session.write('x');
    await echoed;
    max = Math.max(max, performance.now() - start);
    count++;
  }
  return { max, count };
}

describe('config limits', () => {
  it(`answers 10,000 clashing frontends with 4xx within ${ANSWER_WITHIN_MS} ms while a proxied session keeps echoing`, async () => {
    const body = clashingDocument(10_000);
    const session = await connect(proxyPort);
    session.setNoDelay(true);
    try {
      // Every attempt must be refused in time; the echo bound must hold in one of ATTEMPTS, because
      // on a shared machine the scheduler alone can hold a process for tens of milliseconds. The
      // pairwise check this replaces stalled every attempt for seconds (7.7 s with 2,000 frontends).
      // On a machine loaded by others, the idle echo itself can pass 50 ms: then the request may add at most
      // half the bound to what the same session sees with no request at all, measured just before.
      const slowest: number[] = [];
      const baselines: number[] = [];
      const within = (i: number) => slowest[i] < Math.max(ECHO_UNDER_MS, baselines[i] + ECHO_UNDER_MS / 2);
      for (let attempt = 0; attempt < ATTEMPTS && !slowest.some((_, i) => within(i)); attempt++) {
        const idle = new Promise((resolve) => setTimeout(resolve, 300));
        baselines.push((await slowestEchoWhile(session, idle)).max);
        const started = performance.now();
        // A raw request (not supertest): the client's own work shares this event loop with the app's.
        const answer = requestFrom(t.url, '/api/v1/config/validate', {
          method: 'POST',
          headers: { authorization: `Bearer ${viewerToken}` },
          body,
        });
        const [raw, echoes] = await Promise.all([answer, slowestEchoWhile(session, answer)]);
        const elapsed = performance.now() - started;
        const res = { status: raw.status, body: raw.json as Record<string, unknown> };

        expectError(res, 413, 'frontends');
        expect(res.body.code).toBe('LIMIT_EXCEEDED');
        expect(res.body.message).toContain(`at most ${LIMITS.frontends}`);
        expect(elapsed).toBeLessThan(ANSWER_WITHIN_MS);
        expect(echoes.count).toBeGreaterThan(0);
        slowest.push(echoes.max);
      }
      const shown = slowest.map((ms, i) => `${ms.toFixed(1)} (idle ${baselines[i].toFixed(1)})`).join(', ');
      expect(
        slowest.some((_, i) => within(i)),
        `slowest echo of each attempt, ms: ${shown}`,
      ).toBe(true);
    } finally {
      session.destroy();
    }
  });

  it('checks a broken document within the limits in one pass and reports its first 20 issues', async () => {
    const count = await revisionCount(t);
    const body = clashingDocument(LIMITS.frontends);
    for (const send of [
      () => viewer.post('/api/v1/config/validate'),
      () => t.request.put('/api/v1/config'),
    ]) {
      const res = await send().set('Content-Type', 'application/json').send(body);
      expectError(res, 409, 'frontends[1].bind');
      expect(res.body.errors).toHaveLength(LIMITS.issues);
    }
    expect(await revisionCount(t)).toBe(count);
  });

  it('refuses too many servers in all and too long an allow-list, naming the field', async () => {
    const many = Array.from({ length: LIMITS.servers / 4 + 1 }, (_, i) => serverBody(`s${i}`, upstream.port));
    const backends = [0, 1, 2, 3].map((i) => backendBody(`b${i}`, many));
    expectError(
      await viewer.post('/api/v1/config/validate').send({ frontends: [], backends }),
      413,
      'backends',
    );
    const allow = Array.from({ length: LIMITS.allowEntries + 1 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    expectError(await t.request.patch('/api/v1/frontends/live').send({ allow }), 413, 'allow');
    const servers = Array.from({ length: LIMITS.servers + 1 }, (_, i) => serverBody(`s${i}`, 1));
    expectError(await t.request.post('/api/v1/backends').send(backendBody('huge', servers)), 413, 'servers');
  });

  it('lets a realistic 1,200-frontend document through the body size limit', async () => {
    const start = await freePort();
    const frontends = Array.from({ length: 1200 }, (_, i) =>
      frontendBody(`frontend-${i}`, 20_000 + ((start + i) % 40_000), 'b', {
        maxconn: 1000,
        allow: ['10.0.0.0/8'],
      }),
    );
    const res = await viewer
      .post('/api/v1/config/validate')
      .send({ backends: [backendBody('b', [serverBody('s1', upstream.port)])], frontends });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
  });
});

describe('dry run of a big change', () => {
  it('answers within 1 s: the text diff gives up on many changed lines instead of stalling', async () => {
    const disabled = (prefix: string) =>
      Array.from({ length: 2000 }, (_, i) =>
        frontendBody(`${prefix}${i}`, 10_000 + i, 'b', { enabled: false }),
      );
    const backends = [backendBody('b', [serverBody('s1', upstream.port)])];
    await t.request
      .put('/api/v1/config')
      .send({ backends, frontends: disabled('old-') })
      .expect(200);
    const started = performance.now();
    const res = await viewer.post('/api/v1/config/validate').send({ backends, frontends: disabled('new-') });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(ANSWER_WITHIN_MS);
    expect(res.status).toBe(200);
    expect(res.body.changes).toHaveLength(4000);
    expect(res.body.text).toContain('no text diff: more than');
  });
});
