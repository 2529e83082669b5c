// With worker processes the appliance still shuts down as docs/architecture.md says (SIGTERM: exit 0 within
// 10 s, counting the client connections closed), and neither a clean stop nor a kill -9 of the main process
// leaves a worker process behind.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileApp, type CompiledApp } from '../helpers/compiled-app.js';
import { closed, connect, listen, named, readLine, waitFor, type TestServer } from '../helpers/net.js';
import { applianceWithWorkers } from './appliance.js';

let compiled: CompiledApp;
let upstream: TestServer;
beforeAll(async () => {
  compiled = await compileApp();
  upstream = await listen(named('up'));
}, 120_000);
afterAll(async () => {
  await upstream?.close();
  compiled?.remove();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function workerPids(api: Awaited<ReturnType<typeof applianceWithWorkers>>['api']): Promise<number[]> {
  const stats = (await api.get('/api/v1/stats').expect(200)).body;
  return stats.workers.map((w: { pid: number }) => w.pid);
}

it('SIGTERM: exit 0 within 10 s, the connections of every worker counted, no worker left', async () => {
  const running = await applianceWithWorkers(compiled.main, upstream, 2);
  try {
    const pids = await workerPids(running.api);
    const clients = [];
    for (let i = 0; i < 6; i++) {
      const c = await connect(running.port, { localAddress: `127.0.0.${2 + i}` });
      expect(await readLine(c)).toBe('up');
      clients.push(c);
    }
    const t0 = Date.now();
    running.appliance.child.kill('SIGTERM');
    const code = await running.appliance.exited;
    expect(code, running.appliance.output()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(running.appliance.output()).toContain('6 client connection(s) closed');
    await Promise.all(clients.map((c) => closed(c)));
    await waitFor(() => pids.every((pid) => !alive(pid)), 5000, 'the workers to exit');
  } finally {
    running.stop();
  }
});

it('kill -9 of the main process: the workers notice and exit', async () => {
  const running = await applianceWithWorkers(compiled.main, upstream, 2);
  try {
    const pids = await workerPids(running.api);
    expect(pids.every(alive)).toBe(true);
    running.appliance.child.kill('SIGKILL');
    await running.appliance.exited;
    await waitFor(() => pids.every((pid) => !alive(pid)), 5000, 'the workers to exit');
  } finally {
    running.stop();
  }
});
