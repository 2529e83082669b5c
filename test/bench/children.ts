// Starting, talking to and always stopping the benchmark's child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Reply } from './ipc.js';

const live = new Set<ChildProcess>();

let scriptArgs = (script: string): string[] => ['--import', 'tsx', benchFile(script)];

/** How NodeChild.start runs a script (launcher.ts decides: bundled or through tsx). */
export function setScriptArgs(fn: (script: string) => string[]): void {
  scriptArgs = fn;
}

/** Open files a child may use: 9,000 proxied connections cost the proxy 18,000 fds. */
export const FD_LIMIT = 20000;

/** The repository root: children run there so `--import tsx` resolves from node_modules. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export function benchFile(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

/**
 * Runs `command args` through `sh` so the open-file limit can be raised first; `exec` keeps the pid,
 * so /proc/<pid> is the measured program itself.
 */
export function spawnWithFdLimit(
  command: string,
  args: string[],
  options: { ipc: boolean; env?: NodeJS.ProcessEnv },
): ChildProcess {
  const script = `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
  const child = spawn('sh', ['-c', script, command, ...args], {
    stdio: options.ipc ? ['ignore', 'inherit', 'pipe', 'ipc'] : ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
    cwd: repoRoot,
  });
  track(child);
  return child;
}

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

const cleanups = new Set<() => void>();

/** Registers synchronous clean-up (temp files) for killAll; returns the function that unregisters it. */
export function atCleanup(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Kills every child this process started (each by its own handle, never by name), then cleans up. */
export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
  for (const fn of cleanups) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  cleanups.clear();
}

export async function stop(child: ChildProcess, timeoutMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Keeps the last lines a child wrote to stderr, for error messages. */
export function stderrTail(child: ChildProcess, echo: boolean): () => string {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (echo) process.stderr.write(chunk);
    tail = (tail + chunk).slice(-4000);
  });
  return () => tail.trim();
}

/** A node child started with an IPC channel and served by ipc.ts's serve(). */
export class NodeChild {
  readonly pid: number;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readyInfo: Promise<Record<string, unknown>>;
  private readonly tail: () => string;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    this.pid = process.pid!;
    this.tail = stderrTail(process, true);
    this.readyInfo = new Promise((resolve, reject) => {
      process.on('message', (message: Reply & { ready?: boolean }) => {
        if (message.ready) return resolve(message as unknown as Record<string, unknown>);
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new Error(`${name}: ${message.error}`));
      });
      process.once('exit', (code, signal) => {
        const err = new Error(`${name} exited (code ${code}, signal ${signal}) ${this.tail()}`);
        reject(err);
        for (const waiter of this.pending.values()) waiter.reject(err);
        this.pending.clear();
      });
    });
    this.readyInfo.catch(() => undefined);
  }

  /** Starts `node [nodeFlags] <script>` (see launcher.ts) with the fd limit raised. */
  static start(
    name: string,
    script: string,
    options: { nodeFlags?: string[]; env?: NodeJS.ProcessEnv } = {},
  ) {
    const args = [...(options.nodeFlags ?? []), ...scriptArgs(script)];
    return new NodeChild(name, spawnWithFdLimit(process.execPath, args, { ipc: true, env: options.env }));
  }

  ready(timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return withTimeout(this.readyInfo, timeoutMs, `${this.name} did not start`);
  }

  request<T>(cmd: string, args?: unknown, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    const answer = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    if (!this.process.connected)
      return Promise.reject(new Error(`${this.name} is not running ${this.tail()}`));
    this.process.send({ id, cmd, args });
    return withTimeout(answer, timeoutMs, `${this.name}: ${cmd} timed out`).finally(() =>
      this.pending.delete(id),
    );
  }

  stop(): Promise<void> {
    return stop(this.process);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
