// Drains survive a restart (docs/cmpp-session-control.md, "Drains"): the operation is stored with the admin state
// (server_admin_states), its deadline absolute (startedAt + deadline). startApp twice on the same database file.
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { connect, readLine, waitFor, type TestServer } from '../helpers/net.js';
import { readDatabase } from '../helpers/sqlite.js';
import { adminState, auditOf, drainOf, eventsOf, farm, upstreams } from './helpers.js';

const db = tempDbPath();
let t: StartedApp | undefined;
let servers: TestServer[] = [];
let client: Socket | undefined;

afterAll(async () => {
  client?.destroy();
  await t?.close();
  await Promise.all(servers.map((s) => s.close()));
  db.cleanup();
});

describe('drain across a restart', () => {
  it('keeps the operation, its start and deadline, and ends it after the restart', async () => {
    servers = await upstreams();
    t = await startApp({ dbPath: db.dbPath });
    const port = await farm(t, servers);
    client = await connect(port);
    expect(await readLine(client)).toBe('one');

    const res = await t.request
      .put('/api/v1/backends/b/servers/one/state')
      .send({ state: 'drain', deadline: 600_000 });
    expect(res.status).toBe(200);
    const { startedAt, deadlineAt } = res.body.drain as { startedAt: number; deadlineAt: number };
    expect(deadlineAt).toBe(startedAt + 600_000);
    expect(
      (await t.request.put('/api/v1/backends/b/servers/two/state').send({ state: 'drain' })).status,
    ).toBe(200);
    const plainStart = (await drainOf(t, 'two'))!.startedAt;
    expect(await drainOf(t, 'one')).toMatchObject({ sessionsLeft: 1, then: 'maint' });

    const rows = readDatabase(db.dbPath, (d) =>
      d
        .prepare(
          'SELECT server, state, drainStartedAt, drainDeadlineMs, drainThen FROM server_admin_states ORDER BY server',
        )
        .all(),
    );
    expect(rows).toEqual([
      {
        server: 'one',
        state: 'drain',
        drainStartedAt: startedAt,
        drainDeadlineMs: 600_000,
        drainThen: 'maint',
      },
      { server: 'two', state: 'drain', drainStartedAt: plainStart, drainDeadlineMs: null, drainThen: null },
    ]);

    // The restart ends every session: after it the operation finds none left and moves one to maint by itself.
    await t.close();
    client.destroy();
    t = await startApp({ dbPath: db.dbPath });
    await waitFor(async () => (await adminState(t!, 'one')) === 'maint', 10_000, 'one in maint');
    const end = (await eventsOf(t, 'drain')).find((e) => e.server === 'one');
    expect(end?.detail).toMatchObject({ step: 'end', to: 'maint', startedAt, deadlineAt, then: 'maint' });
    const audit = (await auditOf(t, 'server.state')).find((a) => a.actor === 'system');
    expect(audit).toMatchObject({ sourceAddress: 'drain', target: 'b/one', result: 'ok' });

    // The plain drain stays drain, from when it started before the restart.
    expect(await adminState(t, 'two')).toBe('drain');
    expect(await drainOf(t, 'two')).toMatchObject({ startedAt: plainStart, then: null, deadlineAt: null });
    const after = readDatabase(db.dbPath, (d) =>
      d
        .prepare(
          `SELECT state, drainStartedAt, drainDeadlineMs, drainThen FROM server_admin_states WHERE server = 'one'`,
        )
        .get(),
    );
    expect(after).toEqual({ state: 'maint', drainStartedAt: null, drainDeadlineMs: null, drainThen: null });
  });
});
