// Worker processes share each listening socket (node:cluster, SCHED_NONE): connections land on every
// worker, and the merged view (stats, sessions, kill) covers them all (docs/workers.md).
import { describe, expect, it } from 'vitest';
import type { RuntimeStats, SessionInfo } from '../../src/runtime/types.js';
import { backend, freePort, frontend, readLine, server, snapshot, waitFor } from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';
import { startPool } from './pool-helpers.js';

const { defer, servers, client } = closeAfterEach();

describe('worker processes', () => {
  it('spread the connections of one listener over all workers; stats and sessions merge them', async () => {
    const [s1] = await servers('s1');
    const port = await freePort();
    const pool = await startPool(2, defer);
    await pool.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]));

    const clients = [];
    for (let i = 0; i < 60; i++) {
      const c = await client(port, { localAddress: `127.0.0.${2 + (i % 50)}` });
      expect(await readLine(c)).toBe('s1');
      clients.push(c);
    }
    // Each worker's own count, then the merged view.
    const own = await Promise.all([1, 2].map((id) => pool.callWorker<SessionInfo[]>(id, 'sessions')));
    const counts = own.map((list) => list.length);
    expect(counts[0] + counts[1]).toBe(60);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    console.log(`60 connections over 2 workers: ${counts.join(' / ')}`);

    const stats: RuntimeStats = await pool.stats();
    expect(stats.frontends[0].scur).toBe(60);
    expect(stats.backends[0].servers[0].scur).toBe(60);
    expect(stats.workers?.map((w) => w.state)).toEqual(['running', 'running']);
    await waitFor(
      async () => (await pool.stats()).workers?.reduce((n, w) => n + w.sessions, 0) === 60,
      5000,
      'reports',
    );

    const sessions = await pool.sessions();
    expect(sessions).toHaveLength(60);
    expect(new Set(sessions.map((s) => s.id)).size).toBe(60);
    expect(sessions.every((s) => /^w\d+:/.test(s.id))).toBe(true);

    // A merged id reaches the right worker.
    expect(await pool.killSession(sessions[0].id)).toBe(true);
    await waitFor(
      async () => (await pool.stats()).frontends[0].scur === 59,
      5000,
      'the killed session to end',
    );
    expect(await pool.killSession('w999:1')).toBe(false);
  });
});
