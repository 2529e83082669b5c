// How many worker processes: TETHER_WORKERS, or by default the number of cores, raised to what
// defaults.maxconn needs under the per-process open-file limit (docs/workers.md, "How many").
import { availableParallelism } from 'node:os';
import { FDS_PER_CONNECTION, descriptorReserve, openFileLimit } from '../runtime/descriptors.js';

export { openFileLimit };

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
  const usable = Math.max(1, fdLimit - descriptorReserve(fdLimit));
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
