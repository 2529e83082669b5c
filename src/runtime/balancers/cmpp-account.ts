// `balance cmpp-account`: the SP account (Source_Addr of the first CMPP_CONNECT) picks the server on a
// consistent ring, so all connections of one SP meet on one server whatever their source IP.
// Before the account is known (or for non-CMPP clients) the client IP is the key.
import type { BalanceContext, BalancedServer, Balancer, BalancerOptions } from './balancer.js';
import { hash32 } from './hash.js';
import { HashRing } from './hash-ring.js';
import { electOnRing } from './source-hash.js';

export class CmppAccountBalancer implements Balancer {
  private readonly ring: HashRing;

  constructor(options: BalancerOptions) {
    this.ring = new HashRing(options.servers);
  }

  elect(candidates: readonly BalancedServer[], context: BalanceContext): BalancedServer | undefined {
    const key = context.account ? context.account : context.clientAddress;
    return electOnRing(this.ring, hash32(key), candidates);
  }
}
