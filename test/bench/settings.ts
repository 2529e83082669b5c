// Benchmark knobs. Defaults (5 interleaved rounds) keep a full run near 10 minutes on a 2-core machine;
// BENCH_QUICK=1 is a smoke run of the whole harness in about a minute.

import { RUNTIME_NODE_FLAGS } from '../../src/runtime/node-flags.js';

export type TargetName = 'direct' | 'pipe' | 'tether' | 'haproxy';

const quick = process.env.BENCH_QUICK === '1';

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

/** `--workers N` on the command line wins over BENCH_WORKERS. */
function workersFromArgs(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--workers') return argv[i + 1] ?? '';
    if (argv[i].startsWith('--workers=')) return argv[i].slice('--workers='.length);
  }
  return undefined;
}

function workerCount(): number {
  const raw = workersFromArgs(process.argv.slice(2)) ?? process.env.BENCH_WORKERS ?? '1';
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 64)
    throw new Error(`--workers / BENCH_WORKERS must be an integer from 1 to 64, got ${raw}`);
  return value;
}

const allTargets: TargetName[] = ['direct', 'pipe', 'tether', 'haproxy'];

export const settings = {
  quick,
  targets: (process.env.BENCH_TARGETS?.split(',').map((t) => t.trim()) ?? allTargets).filter(
    (t): t is TargetName => allTargets.includes(t as TargetName),
  ),
  /** Interleaved rounds; every figure is the median over rounds. */
  rounds: num('BENCH_ROUNDS', quick ? 2 : 5),
  /** Measured window of each sustained-load phase. */
  loadMs: num('BENCH_SECONDS', quick ? 1 : 5) * 1000,
  /** Time between opening the load and starting the measured window. */
  rampMs: quick ? 200 : 500,
  /** Unmeasured load per target before round 1 (JIT, pools). */
  warmupMs: quick ? 300 : 1500,
  busy: { connections: 100, inflight: 16 },
  light: { connections: 50, inflight: 1 },
  connRate: {
    loops: 8,
    durationMs: num('BENCH_CONNRATE_SECONDS', quick ? 1 : 3) * 1000,
    maxConnections: 30_000,
  },
  idle: {
    connections: num('BENCH_IDLE_CONNECTIONS', quick ? 2000 : 9000),
    rounds: num('BENCH_IDLE_ROUNDS', quick ? 1 : 5),
    warmupConnections: 200,
    concurrency: 200,
    settleMs: quick ? 1000 : 2000,
  },
  backendServers: num('BENCH_SERVERS', 2),
  /** HAProxy `nbthread N`; Tether N worker processes sharing the listener; the pipe relay N cluster workers. */
  workers: workerCount(),
  /** Node flags of the Node proxies: what `npm start` runs (src/runtime/node-flags.ts) unless overridden. */
  nodeFlags:
    process.env.BENCH_NODE_FLAGS === undefined
      ? [...RUNTIME_NODE_FLAGS]
      : process.env.BENCH_NODE_FLAGS.split(' ').filter((f) => f !== ''),
  /** 40 distinct client hosts. */
  sources: Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 2}`),
  /** Hard stop for the whole run, whatever happens. */
  watchdogMs: num('BENCH_WATCHDOG_SECONDS', 900) * 1000,
};

export type Settings = typeof settings;
