// A WorkerPool for tests: real worker processes (from the TypeScript sources under tsx), closed after the test.
import { WorkerPool } from '../../src/workers/pool.js';
import type { WorkerStats } from '../../src/runtime/types.js';
import { waitFor } from '../helpers/net.js';

/** A pool of `workers` processes whose workers are all running. */
export async function startPool(
  workers: number,
  defer: (cleanup: () => unknown) => void,
): Promise<WorkerPool> {
  const logs: string[] = [];
  const pool = new WorkerPool({
    workers,
    log: (level, message) => {
      if (logs.length < 200) logs.push(`${level} ${message}`);
    },
  });
  defer(() => pool.close());
  await waitFor(() => allRunning(pool.workerStats(), workers), 20_000, `${workers} running workers`);
  return pool;
}

export function allRunning(stats: WorkerStats[], count: number): boolean {
  return stats.length === count && stats.every((w) => w.state === 'running');
}
