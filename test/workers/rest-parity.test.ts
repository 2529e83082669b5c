// The REST API answers the same with worker processes as with the data plane in-process: the same statuses
// and error codes for a refused bind, the same views of frontends, sessions, admin states and kills.
import { describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app.js';
import { connect, freePort, holdPort, listen, named, readLine, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

/** The same conversation with one app; returns what a client would compare. */
async function conversation(workers: string): Promise<unknown[]> {
  const upstream = await listen(named('up'));
  const taken = await freePort();
  const squatter = await holdPort(taken);
  const port = await freePort();
  const t = await startApp({ env: { TETHER_WORKERS: workers } });
  const seen: unknown[] = [];
  try {
    if (workers !== '0') {
      await waitFor(
        async () =>
          (await t.request.get('/api/v1/stats')).body.workers?.every(
            (w: { state: string }) => w.state === 'running',
          ),
        20_000,
        'workers',
      );
    }
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('b', [serverBody('s', upstream.port)]))
      .expect(201);
    const refused = await t.request.post('/api/v1/frontends').send(frontendBody('x', taken, 'b'));
    seen.push([
      'refused bind',
      refused.status,
      refused.body.code,
      refused.body.errors?.map((e: { code: string }) => e.code),
    ]);
    const created = await t.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe', port, 'b', { maxconn: 10 }));
    seen.push(['created', created.status, created.body.status, created.body.maxconn]);

    const client = await connect(port);
    expect(await readLine(client)).toBe('up');
    const sessions = await waitFor(async () => {
      const res = await t.request.get('/api/v1/sessions');
      return res.body.length === 1 ? res : undefined;
    });
    seen.push([
      'sessions',
      sessions.status,
      sessions.body.length,
      sessions.body[0].frontend,
      sessions.body[0].server,
    ]);
    const stats = (await t.request.get('/api/v1/stats').expect(200)).body;
    seen.push([
      'stats',
      stats.frontends[0].scur,
      stats.frontends[0].slim,
      stats.backends[0].servers[0].status,
    ]);

    const maint = await t.request.put('/api/v1/backends/b/servers/s/state').send({ state: 'drain' });
    seen.push(['drain', maint.status, maint.body.state ?? maint.body.adminState]);
    const unknownServer = await t.request
      .put('/api/v1/backends/b/servers/nope/state')
      .send({ state: 'maint' });
    seen.push(['unknown server', unknownServer.status, unknownServer.body.code]);

    const kill = await t.request.delete(`/api/v1/sessions/${encodeURIComponent(sessions.body[0].id)}`);
    seen.push(['kill', kill.status]);
    const missing = await t.request.delete('/api/v1/sessions/w999%3A1');
    seen.push(['kill unknown', missing.status, missing.body.code]);
    client.destroy();
    return seen;
  } finally {
    await t.close();
    await squatter.close();
    await upstream.close();
  }
}

describe('REST with worker processes', () => {
  it('answers as the in-process data plane does', async () => {
    const inProcess = await conversation('0');
    const withWorkers = await conversation('2');
    console.log(JSON.stringify(withWorkers));
    expect(withWorkers).toEqual(inProcess);
  });
});
