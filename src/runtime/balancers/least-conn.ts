// `balance leastconn`: the server with the lowest (sessions + 1) / weight, i.e. the lowest load once
// this connection is added (as HAProxy's fwlc does), so idle servers are filled in weight order.
import type { BalanceContext, BalancedServer, Balancer } from './balancer.js';

export class LeastConnBalancer implements Balancer {
  /** Index of the last server chosen: among equally loaded servers the next one after it wins. */
  private lastIndex = -1;

  elect(candidates: readonly BalancedServer[], _context?: BalanceContext): BalancedServer | undefined {
    let best: BalancedServer | undefined; // lowest load, first after lastIndex
    let wrap: BalancedServer | undefined; // lowest load, lowest index (used when none is after lastIndex)
    for (const server of candidates) {
      if (wrap === undefined) {
        wrap = server;
        best = server.index > this.lastIndex ? server : undefined;
        continue;
      }
      const order = compareLoad(server, wrap);
      if (order < 0) {
        wrap = server;
        best = server.index > this.lastIndex ? server : undefined;
      } else if (order === 0) {
        if (server.index < wrap.index) wrap = server;
        if (server.index > this.lastIndex && (best === undefined || server.index < best.index)) best = server;
      }
    }
    const chosen = best ?? wrap;
    if (chosen) this.lastIndex = chosen.index;
    return chosen;
  }
}

/** Compares (a.sessions+1)/a.weight with (b.sessions+1)/b.weight without floating point. */
function compareLoad(a: BalancedServer, b: BalancedServer): number {
  const wa = Math.max(1, a.weight);
  const wb = Math.max(1, b.weight);
  return (a.sessions + 1) * wb - (b.sessions + 1) * wa;
}
