// The Server-Timing header of a change (docs/rest-api.md): where the change's time went, step by step, so a
// client can tell its request-to-live time (the answer's time less `store` and `answer`) from the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { listen, named, type TestServer } from '../helpers/net.js';
import { backendBody, serverBody } from './fixtures.js';

let t: StartedApp;
let upstream: TestServer;

beforeAll(async () => {
  t = await startApp();
  upstream = await listen(named('a'));
  const created = await t.request
    .post('/api/v1/backends')
    .send(backendBody('b-timing', [serverBody('s', upstream.port)]));
  expect(created.status).toBe(201);
});
afterAll(async () => {
  await upstream?.close();
  await t?.close();
});

/** `name;dur=1.2, ...` as [name, ms] pairs, in order. */
function steps(header: string | undefined): Array<[string, number]> {
  expect(header, 'a Server-Timing header').toBeTypeOf('string');
  return (header as string).split(',').map((part) => {
    const match = /^\s*(\w+);dur=(\d+(?:\.\d)?)\s*$/.exec(part);
    expect(match, `a step "name;dur=ms": ${part}`).not.toBeNull();
    return [match![1], Number(match![2])];
  });
}

describe('Server-Timing of a change', () => {
  it('names every step of an applied change in order, and they fit in the time the client waited', async () => {
    const started = performance.now();
    const res = await t.request.patch('/api/v1/backends/b-timing/servers/s').send({ weight: 3 });
    const clientMs = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(true);
    const timing = steps(res.headers['server-timing']);
    expect(timing.map(([name]) => name)).toEqual([
      'auth',
      'turn',
      'checks',
      'rehearse',
      'apply',
      'store',
      'answer',
    ]);
    const serverMs = timing.reduce((sum, [, ms]) => sum + ms, 0);
    // Each step rounds to 0.1 ms: 7 steps may add up to 0.35 ms more than they took.
    expect(serverMs).toBeLessThanOrEqual(clientMs + 0.35);
  });

  it('has no rehearse, apply or store when nothing changed', async () => {
    const res = await t.request.patch('/api/v1/backends/b-timing/servers/s').send({ weight: 3 });
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(false);
    expect(steps(res.headers['server-timing']).map(([name]) => name)).toEqual([
      'auth',
      'turn',
      'checks',
      'answer',
    ]);
  });

  it('comes with a whole-config change too, not with reads', async () => {
    const config = await t.request.get('/api/v1/config');
    expect(config.headers['server-timing']).toBeUndefined();
    const put = await t.request
      .put('/api/v1/config')
      .set('If-Match', config.headers.etag)
      .send({ ...config.body, revision: undefined, defaults: { ...config.body.defaults, maxconn: 777 } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(steps(put.headers['server-timing']).map(([name]) => name)).toContain('apply');
  });
});
