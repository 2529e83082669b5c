// A consistent-hash ring shared by `source` (hashType consistent) and `cmpp-account`.
// Built once per balancer over every configured server, usable or not: a server that goes DOWN or
// is removed takes only its own points away, so only its clients move.
import type { BalancedServer, BalancerOptions } from './balancer.js';
import { murmur3 } from './hash.js';

const encoder = new TextEncoder();

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
    let total = 0;
    for (const server of servers) total += pointCount(server.weight);
    // Each point packed as hash * 2^16 + slot (< 2^48, exact in a double), so one native numeric sort
    // orders by hash and breaks the rare collision by configured position: no allocation per point.
    const packed = new Float64Array(total);
    let at = 0;
    servers.forEach((server, slot) => {
      this.slotByName.set(server.name, slot);
      const count = pointCount(server.weight);
      const prefix = encoder.encode(`${server.name}#`);
      const key = new Uint8Array(prefix.length + 10);
      key.set(prefix);
      for (let i = 0; i < count; i++) {
        // Same bytes as hash32(`${name}#${i}`), without building a string per point.
        const length = prefix.length + writeDecimal(key, prefix.length, i);
        packed[at++] = murmur3(key, length) * 65536 + slot;
      }
    });
    packed.sort();
    this.points = new Uint32Array(total);
    this.owners = new Uint16Array(total);
    for (let i = 0; i < total; i++) {
      this.points[i] = Math.floor(packed[i] / 65536);
      this.owners[i] = packed[i] % 65536;
    }
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
    let chosen: BalancedServer | undefined;
    for (let step = 0; step < n; step++) {
      const slot = this.owners[(start + step) % n];
      if (this.stamps[slot] === this.epoch) {
        chosen = this.candidateBySlot[slot];
        break;
      }
    }
    // Drop the references so the ring never keeps old server objects alive. Undefined here means the
    // marked candidates have weight 0 in the options and so own no point.
    for (const candidate of candidates) {
      const slot = this.slotByName.get(candidate.name);
      if (slot !== undefined) this.candidateBySlot[slot] = undefined;
    }
    return chosen;
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

function pointCount(weight: number): number {
  return Math.max(0, Math.floor(weight)) * POINTS_PER_WEIGHT;
}

/** Writes `value` (a non-negative integer) in decimal ASCII at `offset`; returns the digit count. */
function writeDecimal(into: Uint8Array, offset: number, value: number): number {
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  for (let i = digits - 1, v = value; i >= 0; i--, v = Math.floor(v / 10)) into[offset + i] = 48 + (v % 10);
  return digits;
}
