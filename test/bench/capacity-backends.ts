// Child process of `npm run bench:capacity`: the backend's CMPP-answering servers (backend-server.ts) run in
// BENCH_BACKEND_PROCESSES node:cluster workers that share the same listening sockets (SCHED_NONE: each worker
// accepts for itself), so 50,000 connections spread over several processes, each well under its fd limit.
// The primary announces the ports and every process's pid, and sums the workers' counters on request.
import cluster, { type Worker } from 'node:cluster';
import { benchFile } from './children.js';
import { announce, serve } from './ipc.js';

interface Totals {
  current: number;
  connections: number;
  frames: number;
  badFrames: number;
}

const processes = Number(process.env.BENCH_BACKEND_PROCESSES ?? 1);
cluster.schedulingPolicy = cluster.SCHED_NONE;
cluster.setupPrimary({
  exec: benchFile('backend-server.ts'),
  execArgv: ['--import', 'tsx'],
  silent: false,
});

let nextId = 1;
const waiting = new Map<number, (value: unknown) => void>();

function start(): Promise<{ worker: Worker; ports: number[] }> {
  const worker = cluster.fork();
  return new Promise((resolve, reject) => {
    worker.on('message', (m: { ready?: boolean; ports?: number[]; id?: number; result?: unknown }) => {
      if (m.ready) resolve({ worker, ports: m.ports! });
      else if (m.id !== undefined) waiting.get(m.id)?.(m.result);
    });
    worker.once('exit', (code) => reject(new Error(`backend worker exited with ${code}`)));
  });
}

// One after the other: the first worker's listen(0) makes the primary bind; the others get the same sockets.
const workers: Worker[] = [];
let ports: number[] = [];
for (let i = 0; i < processes; i++) {
  const started = await start();
  if (i > 0 && started.ports.join() !== ports.join())
    throw new Error(`backend worker ${i} listens on ${started.ports.join()}, not ${ports.join()}`);
  ports = started.ports;
  workers.push(started.worker);
}

function ask(worker: Worker): Promise<Totals> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, (value) => {
      waiting.delete(id);
      resolve(value as Totals);
    });
    worker.send({ id, cmd: 'stats' });
  });
}

serve({
  stats: async () => {
    const each = await Promise.all(workers.map(ask));
    const sum: Totals = { current: 0, connections: 0, frames: 0, badFrames: 0 };
    for (const t of each) for (const k of Object.keys(sum) as (keyof Totals)[]) sum[k] += t[k];
    return { ...sum, perProcess: each.map((t) => t.current) };
  },
});
announce({ ports, pids: [process.pid, ...workers.map((w) => w.process.pid!)] });
