// `balance source`: the client IP picks the server, the same one on every process and node.
import type { BalanceContext, BalancedServer, Balancer, BalancerOptions } from './balancer.js';
import { hash32 } from './hash.js';
import { HashRing } from './hash-ring.js';

/**
 * hashType consistent: a ring with virtual nodes in proportion to weight, built over every
 * configured server. Removing, adding or losing one of N servers moves only about 1/N of clients.
 */
export class ConsistentSourceBalancer implements Balancer {
  private readonly ring: HashRing;

  constructor(options: BalancerOptions) {
    this.ring = new HashRing(options.servers);
  }

  elect(candidates: readonly BalancedServer[], context: BalanceContext): BalancedServer | undefined {
    return electOnRing(this.ring, hash32(context.clientAddress), candidates);
  }
}

/**
 * hashType map-based (HAProxy's default): hash modulo the total weight of the candidates, laid out in
 * server order. Deterministic, and perfectly proportional to weight, but any change in the candidate
 * set (a server DOWN, drained, added, reweighted) shifts the boundaries and remaps most clients.
 */
export class MapBasedSourceBalancer implements Balancer {
  constructor(_options?: BalancerOptions) {}

  elect(candidates: readonly BalancedServer[], context: BalanceContext): BalancedServer | undefined {
    return pickByModulo(hash32(context.clientAddress), candidates);
  }
}

/** Ring lookup; a candidate the ring doesn't know (not in the options) still gets a deterministic answer. */
export function electOnRing(
  ring: HashRing,
  hash: number,
  candidates: readonly BalancedServer[],
): BalancedServer | undefined {
  return ring.lookup(hash, candidates) ?? pickByModulo(hash, candidates);
}

/** `hash mod totalWeight` over the candidates' weights in configured (index) order. */
export function pickByModulo(
  hash: number,
  candidates: readonly BalancedServer[],
): BalancedServer | undefined {
  if (candidates.length === 0) return undefined;
  const ordered = inIndexOrder(candidates);
  let total = 0;
  for (const server of ordered) total += Math.max(0, server.weight);
  // All weights 0 can't happen for real candidates; fall back to equal shares rather than fail.
  if (total === 0) return ordered[hash % ordered.length];
  let point = hash % total;
  for (const server of ordered) {
    const weight = Math.max(0, server.weight);
    if (point < weight) return server;
    point -= weight;
  }
  return ordered[ordered.length - 1];
}

function inIndexOrder(candidates: readonly BalancedServer[]): readonly BalancedServer[] {
  for (let i = 1; i < candidates.length; i++) {
    if (candidates[i - 1].index > candidates[i].index)
      return [...candidates].sort((a, b) => a.index - b.index);
  }
  return candidates;
}
