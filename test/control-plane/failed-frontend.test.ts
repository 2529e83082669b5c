// A frontend that could not bind at boot (its port held by another socket) blocks no other change,
// opens by itself once the port is free (audited as frontend.open), and can be retried through the API
// by an operator: 409 with the errno while still taken, 200 OPEN once free, 409 when not FAILED.
import { afterAll, describe, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import {
  connect,
  freePort,
  holdPort,
  listen,
  named,
  readLine,
  waitFor,
  type TestServer,
} from '../helpers/net.js';
import { backendBody, expectError, frontendBody, serverBody } from './fixtures.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Another program holding 127.0.0.1:port until the file's tests end; the returned function frees it sooner. */
async function squat(port: number): Promise<() => Promise<void>> {
  const { close } = await holdPort(port);
  cleanups.push(close);
  return close;
}

describe('a frontend that could not bind at boot', () => {
  it('blocks no other change, retries by itself and on request', async () => {
    const db = tempDbPath();
    cleanups.push(db.cleanup);
    const upstream: TestServer = await listen(named('up'));
    cleanups.push(() => upstream.close());
    const [auto, manual, free] = [await freePort(), await freePort(), await freePort()];

    let t: StartedApp = await startApp({ dbPath: db.dbPath });
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('b', [serverBody('s', upstream.port)]))
      .expect(201);
    for (const [name, port] of [
      ['auto', auto],
      ['manual', manual],
      ['free', free],
    ] as const)
      await t.request
        .post('/api/v1/frontends')
        .send(frontendBody(name, port, 'b'))
        .expect(201);
    await t.close();
    const freeAuto = await squat(auto);
    const freeManual = await squat(manual);
    t = await startApp({ dbPath: db.dbPath });
    cleanups.push(() => t.close());

    const manualView = (await t.request.get('/api/v1/frontends/manual').expect(200)).body;
    expect(manualView).toMatchObject({
      status: 'FAILED',
      error: { code: 'EADDRINUSE' },
      retry: { attempts: 0 },
    });
    const stats = (await t.request.get('/api/v1/stats').expect(200)).body as RuntimeStats;
    expect(stats.frontends.find((f) => f.name === 'auto')).toMatchObject({
      status: 'FAILED',
      retry: { attempts: 0, nextAt: expect.any(Number) },
    });

    // An unrelated change goes through (it answered 409 APPLY_FAILED about the FAILED frontends).
    const weight = await t.request.patch('/api/v1/backends/b/servers/s').send({ weight: 5 });
    expect(weight.status, JSON.stringify(weight.body)).toBe(200);
    // So does a change to a FAILED frontend that keeps its bind.
    const maxconn = await t.request.patch('/api/v1/frontends/manual').send({ maxconn: 50 });
    expect(maxconn.status, JSON.stringify(maxconn.body)).toBe(200);
    expect(maxconn.body).toMatchObject({ status: 'FAILED', maxconn: 50 });

    // It opens by itself once its port is free, and the audit log says so.
    await freeAuto();
    await waitFor(
      async () => (await t.request.get('/api/v1/frontends/auto')).body.status === 'OPEN',
      10_000,
      'auto to open by itself',
    );
    expect(await readLine(await connect(auto))).toBe('up');
    const opened = (await t.request.get('/api/v1/audit').query({ action: 'frontend.open' })).body.items;
    expect(opened[0]).toMatchObject({ actor: 'tether', target: 'auto', result: 'ok' });
    expect(opened[0].detail).toContain(`127.0.0.1:${auto}`);

    // The explicit retry: operators only; 409 with the errno while taken; 200 OPEN once free.
    const viewer = await t.as('viewer');
    expect((await viewer.post('/api/v1/frontends/manual/retry')).status).toBe(403);
    const operator = await t.as('operator');
    const taken = await operator.post('/api/v1/frontends/manual/retry');
    expectError(taken, 409);
    expect(taken.body).toMatchObject({ code: 'APPLY_FAILED', cause: 'EADDRINUSE', field: 'bind' });
    expect(taken.body.message).toContain('EADDRINUSE');
    await freeManual();
    const retried = await operator.post('/api/v1/frontends/manual/retry');
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({ name: 'manual', status: 'OPEN', maxconn: 50 });
    expect(retried.body.error).toBeUndefined();
    expect(await readLine(await connect(manual))).toBe('up');

    const notFailed = await operator.post('/api/v1/frontends/free/retry');
    expectError(notFailed, 409);
    expect(notFailed.body.code).toBe('CONFLICT');
    expectError(await operator.post('/api/v1/frontends/nope/retry'), 404);

    const audit = (await t.request.get('/api/v1/audit').query({ action: 'frontend.retry' })).body.items;
    expect(audit.map((e: { result: string; target: string }) => [e.target, e.result])).toEqual([
      ['nope', 'failed'],
      ['free', 'failed'],
      ['manual', 'ok'],
      ['manual', 'failed'],
      ['manual', 'denied'],
    ]);
  }, 60_000);
});
