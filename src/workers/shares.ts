// Each worker's share of every accept limit (docs/workers.md, "maxconn for the whole appliance"): the
// main process's book of who holds how much. The shares of a limit always add up to the limit; they
// start even and follow the load as the main process moves share from workers with room to a worker
// that runs short (pool.ts, moveShare; the worker side is src/runtime/connections.ts, "limit shares").
import { GLOBAL_SHARE } from '../runtime/connections.js';
import type { Snapshot } from '../schema/snapshot.js';
import { shareOf } from './snapshot-split.js';

export { GLOBAL_SHARE };

/** Limit key -> each worker's share (index = slot index). */
export type ShareBook = ReadonlyMap<string, readonly number[]>;

/** The accept limits of a snapshot, by key. */
export function acceptLimits(snapshot: Snapshot): Map<string, number> {
  const limits = new Map<string, number>([[GLOBAL_SHARE, snapshot.defaults.maxconn]]);
  for (const f of snapshot.frontends) if (f.maxconn !== undefined) limits.set(f.name, f.maxconn);
  return limits;
}

/**
 * The book for a new snapshot: a limit the book already splits over as many workers keeps its
 * proportions (a change of the limit scales every share, so a skewed split stays skewed and no worker is
 * pushed below what it holds just because the config changed); a new limit, or a new worker count,
 * starts from the even split. The limit allowing, the shares add up to it.
 */
export function planShares(snapshot: Snapshot, workers: number, previous?: ShareBook): Map<string, number[]> {
  const book = new Map<string, number[]>();
  for (const [key, limit] of acceptLimits(snapshot)) {
    const old = previous?.get(key);
    book.set(key, old !== undefined && old.length === workers ? scale(old, limit) : even(limit, workers));
  }
  return book;
}

function even(limit: number, workers: number): number[] {
  return Array.from({ length: workers }, (_, i) => shareOf(limit, i, workers));
}

/**
 * `shares` scaled to add up to `limit` (largest remainders first). A share may be 0 (a worker that gave all its
 * room away accepts nothing until it gets some back); only a limit below the number of workers starts even
 * again, each at least 1 (the documented excess).
 */
export function scale(shares: readonly number[], limit: number): number[] {
  const total = shares.reduce((a, b) => a + b, 0);
  if (total === limit) return [...shares];
  if (limit < shares.length || total <= 0) return even(limit, shares.length);
  const exact = shares.map((s) => (s * limit) / total);
  const out = exact.map((x) => Math.floor(x));
  let left = limit - out.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r);
  for (let k = 0; left > 0; k = (k + 1) % out.length, left--) out[byRemainder[k].i]++;
  return out;
}

/**
 * Worker `index`'s share of every accept limit, key -> share: sent with each apply and set by the worker right
 * after the swap (worker-main.ts), before it accepts again. The snapshot itself carries the even split, which
 * the schema accepts whatever the shares are (a share of 0 is not a valid maxconn).
 */
export function sharesOf(book: ShareBook, index: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, shares] of book) out[key] = shares[index];
  return out;
}
