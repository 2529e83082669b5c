// Several runtimes in node:cluster workers (SCHED_NONE) share one listening socket: each worker's
// listener listens through the primary instead of binding the port itself, which only one could.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { closed, connect, freePort, readLine } from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { servers } = closeAfterEach();
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
});

interface WorkerReport {
  pid: number;
  result: string;
  status: string;
  pause: string;
}

describe('listeners in cluster workers', () => {
  it('two workers both listen on the same frontend port and relay', async () => {
    const [s1] = await servers('s1');
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cluster-runtime.ts'], {
      env: { ...process.env, FRONTEND_PORT: String(port), BACKEND_PORT: String(s1.port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no report from the workers in 30 s')), 30_000);
      createInterface({ input: child!.stdout! }).once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
    const reports = JSON.parse(line) as WorkerReport[];
    expect(reports).toHaveLength(2);
    for (const report of reports) {
      expect(report).toMatchObject({ result: 'applied', status: 'OPEN', pause: 'hold' });
    }
    // Whichever worker accepts, the relay works.
    for (let i = 0; i < 4; i++) {
      const c = await connect(port);
      expect(await readLine(c)).toBe('s1');
      c.end();
      await closed(c);
    }
  });
});
