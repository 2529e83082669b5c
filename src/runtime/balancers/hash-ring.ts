// A consistent-hash ring shared by `source` (hashType consistent) and `cmpp-account`.
// Built once per balancer over every configured server, usable or not: a server that goes DOWN or
// is removed takes only its own points away, so only its clients move.
import type { BalancedServer, BalancerOptions } from './balancer.js';
import { hash32 } from './hash.js';

/** Virtual nodes per unit of weight: enough points that weight-1 servers get a share within ~10 %. */
export const POINTS_PER_WEIGHT = 100;

export class HashRing {
  /** Sorted point hashes. */
  private readonly points: Uint32Array;
  /** owners[i] is the slot (position in `names`) of the server owning points[i]. */
  private readonly owners: Uint16Array;
  private readonly slotByName = new Map<string, number>();
  // Per-call candidate marking without allocation: slot is a candidate iff stamps[slot] === epoch.
  private readonly stamps: Uint32Array;
  private readonly candidateBySlot: Array<BalancedServer | undefined>;
  private epoch = 0;

  constructor(servers: BalancerOptions['servers']) {
    const entries: Array<{ hash: number; slot: number }> = [];
    servers.forEach((server, slot) => {
      this.slotByName.set(server.name, slot);
      const count = Math.max(0, Math.floor(server.weight)) * POINTS_PER_WEIGHT;
      for (let i = 0; i < count; i++) entries.push({ hash: hash32(`${server.name}#${i}`), slot });
    });
    // Ties (hash collisions) are broken by configured position, so the order never depends on input timing.
    entries.sort((a, b) => a.hash - b.hash || servers[a.slot].index - servers[b.slot].index);
    this.points = Uint32Array.from(entries, (e) => e.hash);
    this.owners = Uint16Array.from(entries, (e) => e.slot);
    this.stamps = new Uint32Array(servers.length);
    this.candidateBySlot = new Array(servers.length);
  }

  get size(): number {
    return this.points.length;
  }

  /**
   * The first candidate clockwise from `hash`. Returns undefined when no candidate owns a point
   * (none given, or none of them is on the ring).
   */
  lookup(hash: number, candidates: readonly BalancedServer[]): BalancedServer | undefined {
    if (candidates.length === 0 || this.points.length === 0) return undefined;
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.stamps.fill(0);
      this.epoch = 1;
    }
    let marked = 0;
    for (const candidate of candidates) {
      const slot = this.slotByName.get(candidate.name);
      if (slot === undefined) continue;
      this.stamps[slot] = this.epoch;
      this.candidateBySlot[slot] = candidate;
      marked++;
    }
    if (marked === 0) return undefined;

    const n = this.points.length;
    const start = this.firstAtOrAfter(hash);
    for (let step = 0; step < n; step++) {
      const slot = this.owners[(start + step) % n];
      if (this.stamps[slot] === this.epoch) {
        const chosen = this.candidateBySlot[slot];
        this.candidateBySlot.fill(undefined);
        return chosen;
      }
    }
    // Marked candidates with weight 0 in the options own no point.
    this.candidateBySlot.fill(undefined);
    return undefined;
  }

  /** Index of the first point >= hash, wrapping to 0 past the end. */
  private firstAtOrAfter(hash: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid] < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.points.length ? 0 : lo;
  }
}
