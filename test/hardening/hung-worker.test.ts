// A worker process that stops answering (stopped with SIGSTOP, as a busy loop or a wedged process would
// look): the pool's calls must not keep failing because of it. Past the call timeout it is killed and
// replaced like a worker that died, and stats answer from the others meanwhile.
import { afterEach, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { WorkerPool } from '../../src/workers/pool.js';
import { backend, echo, freePort, frontend, listen, server, snapshot, waitFor } from '../helpers/net.js';
import { allRunning } from '../workers/pool-helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('a hung worker is killed after the call timeout and replaced; stats keep answering', async () => {
  const pool = new WorkerPool({ workers: 2, callTimeoutMs: 1500, log: () => {} });
  cleanups.push(() => pool.close());
  await waitFor(() => allRunning(pool.workerStats(), 2), 30_000, '2 running workers');
  const upstream = await listen(echo);
  cleanups.push(() => upstream.close());
  await pool.apply(
    snapshot([frontend('f', await freePort(), 'b')], [backend('b', [server('s', upstream.port)])]),
  );

  const victim = pool.workerStats()[0].pid;
  process.kill(victim, 'SIGSTOP');
  cleanups.push(() => {
    try {
      process.kill(victim, 'SIGKILL');
    } catch {
      // already gone: what the pool should have done
    }
  });

  // The first call waits out the timeout, then answers from the worker that is left.
  const stats: RuntimeStats = await pool.stats();
  expect(stats.frontends.map((f) => f.name)).toEqual(['f']);
  // Replaced: a new process in slot 1, running the current snapshot.
  await waitFor(
    () => {
      const w = pool.workerStats()[0];
      return w.restarts === 1 && w.pid !== victim && w.state === 'running';
    },
    30_000,
    'worker 1 replaced',
  );
  const again = await pool.stats();
  expect(again.workers?.map((w) => w.state)).toEqual(['running', 'running']);
  expect(again.frontends.map((f) => f.name)).toEqual(['f']);
}, 90_000);
