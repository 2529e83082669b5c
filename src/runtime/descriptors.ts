// The process's open-file limit and how many sessions fit under it. A proxied session holds two descriptors
// (client and server); the rest of the process (listeners, IPC, DNS, stdio, checks, the API in a single
// process) keeps a reserve. The runtime stops accepting at the budget, as HAProxy derives its maxconn from
// `ulimit -n`: waiting clients stay in the kernel's backlog. Reaching the kernel's EMFILE instead is worse:
// libuv answers it by accepting and closing the waiting clients (docs/workers.md, "Out of descriptors").
import { readFileSync, readdirSync } from 'node:fs';

/** Descriptors kept for everything but proxied sessions, plus 1% of the limit for what grows with load. */
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

/** Descriptors open now (once, at start: a directory read), or undefined off Linux. */
export function openDescriptorCount(fdDir = '/proc/self/fd'): number | undefined {
  try {
    return readdirSync(fdDir).length;
  } catch {
    return undefined;
  }
}

/** Descriptors a process keeps out of its limit for everything but sessions. */
export function descriptorReserve(limit: number): number {
  return FD_RESERVE + Math.ceil(Math.min(limit, 1_000_000) / 100);
}

/** Sessions that fit: (limit - open now - reserve) / 2, at least 1; Infinity when the limit is unknown. */
export function sessionBudget(limit: number | undefined, openNow: number | undefined): number {
  if (limit === undefined || limit >= Number.MAX_SAFE_INTEGER) return Number.POSITIVE_INFINITY;
  const free = limit - (openNow ?? 0) - descriptorReserve(limit);
  return Math.max(1, Math.floor(free / FDS_PER_CONNECTION));
}
