// A WorkerPool for tests: real worker processes (from the TypeScript sources under tsx, or compiled), closed after the test.
import { WorkerPool } from '../../src/workers/pool.js';
import type { WorkerStats } from '../../src/runtime/types.js';
import { compileApp, type CompiledApp } from '../helpers/compiled-app.js';
import { waitFor } from '../helpers/net.js';

export type Pool = Pick<WorkerPool, keyof WorkerPool>;
type PoolClass = new (options: ConstructorParameters<typeof WorkerPool>[0]) => Pool;

/**
 * The pool class from the compiled sources (its workers then start as plain JavaScript, as under `npm start`,
 * not through tsx): for tests that time a worker's start.
 */
export async function compiledPoolClass(): Promise<{ Pool: PoolClass; compiled: CompiledApp }> {
  const compiled = await compileApp();
  const module = (await import(compiled.main.replace(/main\.js$/, 'workers/pool.js'))) as {
    WorkerPool: PoolClass;
  };
  return { Pool: module.WorkerPool, compiled };
}

/** A pool of `workers` processes whose workers are all running. */
export async function startPool(
  workers: number,
  defer: (cleanup: () => unknown) => void,
  Pool: PoolClass = WorkerPool,
): Promise<Pool> {
  const pool = new Pool({
    workers,
    log: (level, message) => {
      if (process.env.TETHER_TEST_POOL_LOG || level !== 'info') console.log(`pool ${level}: ${message}`);
    },
  });
  defer(() => pool.close());
  await waitFor(() => allRunning(pool.workerStats(), workers), 20_000, `${workers} running workers`);
  return pool;
}

export function allRunning(stats: WorkerStats[], count: number): boolean {
  return stats.length === count && stats.every((w) => w.state === 'running');
}
