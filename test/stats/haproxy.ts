// A real HAProxy 2.6 (Debian's) driven through its stats socket, to check our CSV against the original.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/net.js';

/** Why the HAProxy comparison can't run here, or undefined when it can. */
export function haproxyMissing(): string | undefined {
  const version = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) return 'haproxy is not installed (apt-get install -y haproxy)';
  if (!/version 2\.6\./.test(version.stdout)) return `haproxy is not 2.6: ${version.stdout.split('\n')[0]}`;
  return undefined;
}

export interface Haproxy {
  /** The stats socket's path, for clients of their own. */
  socketPath: string;
  /** Sends one command to the stats socket (level admin) and returns the answer. */
  command(line: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts haproxy in the foreground with `body` after a global section that opens the stats socket. */
export async function startHaproxy(body: string): Promise<Haproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-haproxy-'));
  const socketPath = join(dir, 'h.sock');
  writeFileSync(join(dir, 'h.cfg'), `global\n  stats socket ${socketPath} level admin\n${body}`);
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', join(dir, 'h.cfg')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const command = (line: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(socketPath);
      let answer = '';
      socket.on('data', (d) => (answer += d));
      socket.on('error', reject);
      socket.on('end', () => resolve(answer));
      socket.on('connect', () => socket.end(`${line}\n`));
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`haproxy exited: ${output}`);
        return (await command('show info').catch(() => '')).includes('Version: 2.6');
      },
      10_000,
      'haproxy stats socket',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { socketPath, command, stop };
}
