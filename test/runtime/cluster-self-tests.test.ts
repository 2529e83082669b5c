// The self-tests run in every worker process at the same moment: each must test its own loopback
// servers (in a node:cluster worker a plain listen on port 0 is shared by all workers, and one worker
// could accept another's probe, failing both and dropping them to the public paths).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';

let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
});

describe('self-tests in cluster workers', () => {
  it('pass in each of four workers that run them at once', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cluster-paths.ts'], {
      env: { ...process.env, WORKERS: '4' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no report from the workers in 40 s')), 40_000);
      createInterface({ input: child!.stdout! }).once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
    const reports = JSON.parse(line) as Array<Record<string, string>>;
    expect(reports).toHaveLength(4);
    for (const report of reports) {
      expect(report).toMatchObject({
        pause: 'readstop',
        accept: 'onread',
        write: 'handle',
        pauseReason: 'self-test passed',
        acceptReason: 'self-test passed',
        writeReason: 'self-test passed',
      });
    }
  });
});
