// maxconn holds for the whole appliance: each worker gets a share of every limit (defaults, frontend,
// server), so the shares add up to the limit (docs/workers.md, "maxconn").
import type { Snapshot } from '../schema/snapshot.js';

/**
 * Worker `index` (0-based) of `workers`: floor(limit / workers), plus one for the first `limit % workers`
 * workers. A share is at least 1 (the schema's minimum), so a limit below the worker count admits up to
 * `workers` connections: the one documented excess.
 */
export function shareOf(limit: number, index: number, workers: number): number {
  const share = Math.floor(limit / workers) + (index < limit % workers ? 1 : 0);
  return Math.max(1, share);
}

/** The snapshot worker `index` of `workers` runs: the same config with its share of every maxconn. */
export function workerSnapshot(snapshot: Snapshot, index: number, workers: number): Snapshot {
  if (workers <= 1) return snapshot;
  const share = (limit: number) => shareOf(limit, index, workers);
  return {
    ...snapshot,
    defaults: { ...snapshot.defaults, maxconn: share(snapshot.defaults.maxconn) },
    frontends: snapshot.frontends.map((f) =>
      f.maxconn === undefined ? f : { ...f, maxconn: share(f.maxconn) },
    ),
    backends: snapshot.backends.map((b) => ({
      ...b,
      servers: b.servers.map((s) => (s.maxconn === undefined ? s : { ...s, maxconn: share(s.maxconn) })),
    })),
  };
}

/** What the main process's health runtime runs: backends and servers only (checks, names, admin states). */
export function healthSnapshot(snapshot: Snapshot): Snapshot {
  return { ...snapshot, frontends: [] };
}
