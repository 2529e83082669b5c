// ProxyRuntimeApi.serverStates over worker processes (docs/workers.md, "Merged view"): each server's admin state,
// health and status as the merged stats show them, answered by the main process alone, so that a change's answer
// (which shows them) waits for no worker.
import { describe, expect, it } from 'vitest';
import { backend, freePort, frontend, server, snapshot, waitFor } from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';
import { startPool } from './pool-helpers.js';

const { defer, servers } = closeAfterEach();

describe('WorkerPool.serverStates', () => {
  it("equals the merged stats' states, and answers while every worker is stopped", async () => {
    const [s1, s2] = await servers('s1', 's2');
    const closed = await freePort();
    const pool = await startPool(2, defer);
    await pool.apply(
      snapshot(
        [frontend('fe', await freePort(), 'be')],
        [
          backend(
            'be',
            [server('s1', s1.port), server('s2', s2.port), server('c', closed, { check: true })],
            { check: { type: 'tcp', inter: 100, fall: 1, rise: 1 } },
          ),
        ],
      ),
      { adminStates: [{ backend: 'be', server: 's2', state: 'maint' }] },
    );
    await waitFor(async () => (await pool.stats()).backends[0].servers[2].health === 'DOWN', 5000, 'c DOWN');

    const fromStats = (await pool.stats()).backends.flatMap((b) =>
      b.servers.map((s) => ({
        backend: b.name,
        server: s.name,
        adminState: s.adminState,
        health: s.health,
        status: s.status,
      })),
    );
    expect(await pool.serverStates()).toEqual(fromStats);
    expect(fromStats.map((s) => [s.server, s.adminState, s.health])).toEqual([
      ['s1', 'ready', 'UP'],
      ['s2', 'maint', 'UP'],
      ['c', 'ready', 'DOWN'],
    ]);

    // Stopped workers answer nothing: stats() waits for them, serverStates() doesn't ask them.
    const pids = pool.workerStats().map((w) => w.pid);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      let statsAnswered = false;
      const stats = pool.stats().then(() => (statsAnswered = true));
      const started = performance.now();
      const states = await pool.serverStates();
      const ms = performance.now() - started;
      expect(states).toEqual(fromStats);
      // Generous: the main process answers from memory; a stopped worker would hold it until the call timeout (10 s).
      expect(ms).toBeLessThan(2000);
      expect(statsAnswered).toBe(false);
      for (const pid of pids) process.kill(pid, 'SIGCONT');
      await stats;
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
  });
});
