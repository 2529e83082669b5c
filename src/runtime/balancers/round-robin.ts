// `balance roundrobin`: nginx's smooth weighted round-robin. Weights 5,1,1 give a a b a c a a:
// proportional, and interleaved instead of bursts of the heavy server.
import type { BalanceContext, BalancedServer, Balancer } from './balancer.js';

export class RoundRobinBalancer implements Balancer {
  /** Current weight per server name, so a changing candidate set (DOWN, drain, added) keeps its place. */
  private readonly current = new Map<string, number>();

  elect(candidates: readonly BalancedServer[], _context?: BalanceContext): BalancedServer | undefined {
    let best: BalancedServer | undefined;
    let bestCurrent = -Infinity;
    let total = 0;
    for (const server of candidates) {
      const weight = Math.max(0, server.weight);
      const current = (this.current.get(server.name) ?? 0) + weight;
      this.current.set(server.name, current);
      total += weight;
      // Strictly greater: on a tie the earlier candidate wins, as in nginx.
      if (current > bestCurrent) {
        best = server;
        bestCurrent = current;
      }
    }
    if (best) this.current.set(best.name, bestCurrent - total);
    return best;
  }
}
