// POST /revisions/:id/rollback/validate: the review of a rollback before it happens — the diff from the
// config in effect to the target revision and its impact on live traffic — and it changes nothing.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { connect, listen, named, type TestServer } from '../helpers/net.js';
import { accepts, addLiveFrontend, expectError, headRevision, revisionCount } from './fixtures.js';

let t: StartedApp;
let upstream: TestServer;
let livePort: number;
let client: Socket;

beforeAll(async () => {
  t = await startApp();
  upstream = await listen(named('up'));
  // Revision 1: backend b; revision 2: frontend live in front of it.
  livePort = await addLiveFrontend(t, upstream.port);
  client = await connect(livePort, { localAddress: '127.0.0.2' });
  // The proxy's first bytes (the upstream's name) arrive once the session is counted.
  await new Promise((resolve) => client.once('data', resolve));
});
afterAll(async () => {
  client?.destroy();
  await t?.close();
  await upstream?.close();
});

describe('rollback dry run', () => {
  it('shows the diff to the target and the listener it would close with its live session, changing nothing', async () => {
    const count = await revisionCount(t);
    const head = await headRevision(t);
    const res = await t.request.post('/api/v1/revisions/1/rollback/validate');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ valid: true, revision: head, changed: true });
    expect(res.body.changes).toContainEqual(
      expect.objectContaining({ path: 'frontends[live]', kind: 'removed' }),
    );
    expect(res.body.text).toContain('revision 1');
    expect(res.body.impact.listenersClosed).toEqual([
      { frontend: 'live', address: '127.0.0.1', port: livePort, sessions: 1 },
    ]);
    expect(await revisionCount(t)).toBe(count);
    expect(await headRevision(t)).toBe(head);
    expect(await accepts(livePort)).toBe(true);
  });

  it('answers "nothing changes" for the revision in effect', async () => {
    const head = await headRevision(t);
    const res = await t.request.post(`/api/v1/revisions/${head}/rollback/validate`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.changed).toBe(false);
    expect(res.body.changes).toEqual([]);
  });

  it('names an unknown revision (404) and a malformed id (400)', async () => {
    expectError(await t.request.post('/api/v1/revisions/999/rollback/validate'), 404);
    expectError(await t.request.post('/api/v1/revisions/x1/rollback/validate'), 400, 'id');
  });
});
