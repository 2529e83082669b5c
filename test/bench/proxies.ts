// The proxies under test, each in its own process with the same settings:
// one frontend on 127.0.0.1:<free port>, roundrobin over the same servers, no health checks,
// connect timeout 5 s, client/server idle timeouts 1 h, one thread, the same connection limit.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../../src/schema/snapshot.js';
import type { ListenerPathsReport } from '../../src/runtime/types.js';
import { freePort } from '../helpers/net.js';
import { FD_LIMIT, NodeChild, atCleanup, sleep, spawnWithFdLimit, stderrTail, stop } from './children.js';
import { benchHaproxyConfig } from './haproxy-config.js';
import { settings } from './settings.js';

export type ProxyName = 'pipe' | 'tether' | 'haproxy';

export interface RunningProxy {
  name: ProxyName;
  /** Every process of the proxy (a cluster primary and its workers); CPU and RSS are summed over them. */
  pids: number[];
  port: number;
  /** Sessions the proxy still holds, when it can tell (Tether's stats: scur summed over frontends). */
  liveSessions?: () => Promise<number>;
  /** Tether: which listener paths it runs (per worker with several). */
  paths?: () => Promise<ListenerPathsReport | ListenerPathsReport[]>;
  stop(): Promise<void>;
}

/**
 * HAProxy refuses to start when maxconn needs more fds than it may open (2 per connection + a few):
 * with a 20,000 hard limit that is 9,990, so both proxies get that limit instead of the usual 50,000.
 */
export const MAXCONN = Math.floor((FD_LIMIT - 20) / 2);

/** The Node proxies' flags: what `npm start` runs (src/runtime/node-flags.ts) unless BENCH_NODE_FLAGS says otherwise. */
export const NODE_PROXY_FLAGS = settings.nodeFlags;

/** Processes or threads per proxy (`--workers N`). */
const WORKERS = settings.workers;

export function benchSnapshot(port: number, serverPorts: number[]): Snapshot {
  return {
    defaults: {
      maxconn: MAXCONN,
      timeouts: { connect: 5000, client: 3_600_000, server: 3_600_000, check: 5000 },
    },
    frontends: [
      {
        name: 'bench',
        bind: { address: '127.0.0.1', port },
        binds: [{ address: '127.0.0.1', port }],
        backend: 'cmpp',
        enabled: true,
      },
    ],
    backends: [
      {
        name: 'cmpp',
        balance: 'roundrobin',
        hashType: 'consistent',
        check: { type: 'none', inter: 60_000, fall: 3, rise: 2 },
        sendProxy: 'none',
        onMarkedDown: 'keep',
        servers: serverPorts.map((p, i) => ({
          name: `s${i + 1}`,
          address: '127.0.0.1',
          port: p,
          weight: 1,
          backup: false,
          check: false,
        })),
      },
    ],
  };
}

export function haproxyConfig(port: number, serverPorts: number[]): string {
  return benchHaproxyConfig(port, serverPorts, WORKERS, MAXCONN);
}

/** Why HAProxy can't be measured here, or null when it can. */
export function haproxyMissing(): string | null {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
    return null;
  } catch (err) {
    return `haproxy not runnable (${(err as Error).message.split('\n')[0]}); install it with: apt-get install -y haproxy`;
  }
}

export function haproxyVersion(): string {
  try {
    return execFileSync('haproxy', ['-v'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    return 'unavailable';
  }
}

let runtimeModule = '';

/** Where tether-proxy.ts loads ProxyRuntime from (see launcher.ts). */
export function setRuntimeModule(path: string): void {
  runtimeModule = path;
}

/** `env`: more environment for Tether's child (the session log's BENCH_SESSION_LOG*, see logging.ts). */
export async function startProxy(
  name: ProxyName,
  serverPorts: number[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunningProxy> {
  if (name === 'haproxy') return startHaproxy(serverPorts);
  const workers = String(WORKERS);
  if (name === 'pipe') {
    const child = NodeChild.start('pipe proxy', 'pipe-proxy.ts', {
      nodeFlags: NODE_PROXY_FLAGS,
      env: {
        BENCH_UPSTREAM_PORTS: JSON.stringify(serverPorts),
        BENCH_PROXY_WORKERS: workers,
        ...(WORKERS > 1 && { BENCH_PIPE_PORT: String(await freePort()) }),
      },
    });
    const info = await child.ready();
    return { name, pids: info.pids as number[], port: info.port as number, stop: () => child.stop() };
  }
  const port = await freePort();
  const child = NodeChild.start('tether', 'tether-proxy.ts', {
    nodeFlags: NODE_PROXY_FLAGS,
    env: { BENCH_RUNTIME_MODULE: runtimeModule, BENCH_PROXY_WORKERS: workers, ...env },
  });
  let pids: number[];
  try {
    pids = (await child.ready()).pids as number[];
    await child.request('apply', benchSnapshot(port, serverPorts), 15_000);
    await waitListening(port, 10_000);
  } catch (err) {
    await child.stop();
    throw err;
  }
  // One process answers a number; a cluster primary an array, one per worker.
  const liveSessions = async () => {
    const answer = await child.request<number | number[]>('sessions');
    return typeof answer === 'number' ? answer : answer.reduce((sum, n) => sum + n, 0);
  };
  const paths = () => child.request<ListenerPathsReport | ListenerPathsReport[]>('paths');
  return { name, pids, port, liveSessions, paths, stop: () => child.stop() };
}

async function startHaproxy(serverPorts: number[]): Promise<RunningProxy> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(port, serverPorts));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const forget = atCleanup(removeDir);
  const child = spawnWithFdLimit('haproxy', ['-f', cfg, '-db'], { ipc: false });
  const tail = stderrTail(child, false);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`haproxy exited with code ${code}: ${tail()}`))),
  );
  exited.catch(() => undefined);
  try {
    await Promise.race([waitListening(port, 10_000), exited]);
  } catch (err) {
    await stop(child);
    removeDir();
    forget();
    throw err;
  }
  return {
    name: 'haproxy',
    pids: [child.pid!],
    port,
    stop: async () => {
      await stop(child);
      removeDir();
      forget();
    },
  };
}

async function waitListening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}
