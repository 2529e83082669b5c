// Run by test/runtime/cluster-listener.test.ts: a node:cluster primary (SCHED_NONE) with two workers,
// each running a ProxyRuntime whose one frontend listens on FRONTEND_PORT and relays to BACKEND_PORT.
// The primary prints one JSON line: what each worker's apply and listener paths said.
import cluster from 'node:cluster';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { backend, frontend, server, snapshot } from './net.js';

const WORKERS = 2;

if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const reports: unknown[] = [];
  for (let i = 0; i < WORKERS; i++) {
    cluster.fork().on('message', (report: unknown) => {
      reports.push(report);
      if (reports.length === WORKERS) process.stdout.write(JSON.stringify(reports) + '\n');
    });
  }
} else {
  process.on('disconnect', () => process.exit(0));
  const rt = new ProxyRuntime();
  const port = Number(process.env.FRONTEND_PORT);
  const result = await rt
    .apply(
      snapshot(
        [frontend('fe', port, 'be')],
        [backend('be', [server('s1', Number(process.env.BACKEND_PORT))])],
      ),
    )
    .then(
      () => 'applied',
      (error: unknown) => String(error),
    );
  const stats = await rt.stats();
  const paths = await rt.listenerPaths();
  process.send!({
    pid: process.pid,
    result,
    status: stats.frontends[0]?.status,
    pause: paths.listeners[0]?.pause,
  });
}
