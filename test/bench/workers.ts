// `--workers N` for the Node proxies until Tether's own worker processes land: the proxy script's
// first process becomes a node:cluster primary with SCHED_NONE (every worker accepts from the one
// shared listening socket; PERFORMANCE.md measured a ~50/50 split) and forks N copies of itself.
// The primary relays the parent's requests to every worker and answers with all their replies.
import cluster from 'node:cluster';
import { NodeChild } from './children.js';
import { announce, serve } from './ipc.js';

/** How many processes the parent asked for (proxies.ts sets it). */
export const workerCount = Number(process.env.BENCH_PROXY_WORKERS ?? '1');

/** True in the primary of a multi-process proxy: it only forks and relays, it proxies nothing. */
export function isWorkerPrimary(): boolean {
  return workerCount > 1 && cluster.isPrimary;
}

/**
 * Forks the workers, waits until each is ready, serves `commands` to the parent by sending each to
 * every worker (the replies come back as an array, in worker order) and announces the pids of the
 * primary and the workers, which the parent sums CPU and memory over.
 */
export async function runWorkerPrimary(
  commands: string[],
  info: Record<string, unknown> = {},
): Promise<void> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const workers = Array.from(
    { length: workerCount },
    (_, i) => new NodeChild(`worker ${i + 1}`, cluster.fork().process),
  );
  const ready = await Promise.all(workers.map((w) => w.ready()));
  const handlers: Record<string, (args: unknown) => Promise<unknown[]>> = {};
  for (const command of commands)
    handlers[command] = (args) => Promise.all(workers.map((w) => w.request(command, args, 30_000)));
  serve(handlers);
  announce({ ...info, ...ready[0], pids: [process.pid, ...workers.map((w) => w.pid)] });
}
