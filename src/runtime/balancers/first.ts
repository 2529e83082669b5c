// `balance first`: fill servers in configured order. The caller has already removed servers at
// their maxconn, so the first candidate by index is the first server with room.
import type { BalanceContext, BalancedServer, Balancer } from './balancer.js';

export class FirstBalancer implements Balancer {
  elect(candidates: readonly BalancedServer[], _context?: BalanceContext): BalancedServer | undefined {
    let chosen: BalancedServer | undefined;
    for (const server of candidates) if (chosen === undefined || server.index < chosen.index) chosen = server;
    return chosen;
  }
}
