// How many worker processes: TETHER_WORKERS, or by default the number of cores, raised to what
// defaults.maxconn needs under the per-process open-file limit (docs/workers.md, "How many").
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Descriptors a worker keeps for itself (IPC channel, listening sockets, DNS, stdio, checks): not for connections. */
export const FD_RESERVE = 64;
/** A proxied connection holds two descriptors: the client's and the server's. */
export const FDS_PER_CONNECTION = 2;

/** The soft open-file limit of this process (Node raises it to the hard limit at start), or undefined off Linux. */
export function openFileLimit(limitsFile = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limitsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined) return undefined;
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const value = Number(soft);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface WorkerCount {
  workers: number;
  /** For the start log: "workers: N (why)". */
  why: string;
}

/** The default: cores, or more when maxconn connections need more descriptors than `cores` processes have. */
export function defaultWorkerCount(
  maxconn: number,
  /** null: unknown (default: this process's). */
  fdLimit: number | null = openFileLimit() ?? null,
  cores: number = availableParallelism(),
): WorkerCount {
  if (fdLimit === null) return { workers: cores, why: `${cores} cores; open-file limit unknown` };
  const usable = Math.max(1, fdLimit - FD_RESERVE);
  const needed = Math.ceil((FDS_PER_CONNECTION * maxconn) / usable);
  if (needed <= cores) {
    return {
      workers: cores,
      why: `${cores} cores; defaults.maxconn ${maxconn} fits ${fdLimit} open files per process`,
    };
  }
  return {
    workers: needed,
    why: `raised from ${cores} cores: defaults.maxconn ${maxconn} needs ${FDS_PER_CONNECTION * maxconn} descriptors, ${usable} usable per process (open-file limit ${fdLimit})`,
  };
}
