// Run by test/runtime/cluster-self-tests.test.ts: a node:cluster primary (SCHED_NONE, as worker processes
// run) whose workers each make a runtime at the same moment and report the paths their self-tests chose.
import cluster from 'node:cluster';
import { ProxyRuntime } from '../../src/runtime/runtime.js';

const WORKERS = Number(process.env.WORKERS ?? '3');

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
  const rt = new ProxyRuntime({ sharedListeners: true });
  const { listeners, ...paths } = await rt.listenerPaths();
  process.send!({ ...paths, listeners: listeners.length });
}
