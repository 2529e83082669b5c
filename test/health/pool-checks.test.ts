// Issue 9 on the worker-pool path: with worker processes, the tcp-check steps and check ports run once, in the
// main process (WorkerPool's health runtime), and every worker follows the verdict.
import { afterEach, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { closedPort } from '../helpers/health-targets.js';
import { backend, freePort, frontend, server, snapshot, waitFor } from '../helpers/net.js';
import { startPool } from '../workers/pool-helpers.js';
import { behavingServer } from './redis-like.js';

const cleanups: Array<() => unknown> = [];
const defer = (cleanup: () => unknown) => cleanups.push(cleanup);
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('runs tcp-check steps to the check port in the main process; workers follow', async () => {
  const pong = await behavingServer('pong');
  defer(() => pong.close());
  const wrong = await behavingServer('wrong-then-close');
  defer(() => wrong.close());
  const closed = await closedPort();
  const pool = await startPool(2, defer);
  const check = {
    type: 'tcp' as const,
    inter: 100,
    fall: 1,
    rise: 1,
    steps: [{ send: 'PING\r\n' }, { expect: { string: '+PONG' } }],
  };
  await pool.apply(
    snapshot(
      [frontend('fe', await freePort(), 'be')],
      [
        backend(
          'be',
          [
            server('viaCheckPort', closed, { check: true, checkPort: pong.port }),
            server('nomatch', wrong.port, { check: true }),
          ],
          { check },
        ),
      ],
    ),
  );
  const health = (stats: RuntimeStats) => stats.backends[0].servers.map((s) => s.health);
  await waitFor(async () => health(await pool.stats())[1] === 'DOWN', 5000, 'nomatch DOWN');
  const stats = await pool.stats();
  expect(health(stats)).toEqual(['UP', 'DOWN']);
  expect(stats.backends[0].servers[1]).toMatchObject({ check_status: 'L7RSP' });
  for (const id of [1, 2]) {
    await waitFor(
      async () => health(await pool.callWorker<RuntimeStats>(id, 'stats')).join() === 'UP,DOWN',
      3000,
      `worker ${id} follows`,
    );
  }
});
