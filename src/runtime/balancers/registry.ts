// Algorithm name -> balancer. Adding an algorithm is one file plus one line here.
import type { BalanceAlgorithm } from '../../schema/snapshot.js';
import type { Balancer, BalancerOptions } from './balancer.js';
import { CmppAccountBalancer } from './cmpp-account.js';
import { FirstBalancer } from './first.js';
import { LeastConnBalancer } from './least-conn.js';
import { RoundRobinBalancer } from './round-robin.js';
import { ConsistentSourceBalancer, MapBasedSourceBalancer } from './source-hash.js';

const factories: Record<BalanceAlgorithm, (options: BalancerOptions) => Balancer> = {
  source: (options) =>
    options.hashType === 'map-based'
      ? new MapBasedSourceBalancer(options)
      : new ConsistentSourceBalancer(options),
  roundrobin: () => new RoundRobinBalancer(),
  leastconn: () => new LeastConnBalancer(),
  first: () => new FirstBalancer(),
  // Always consistent: an SP's connections must stay together when a server comes or goes.
  'cmpp-account': (options) => new CmppAccountBalancer(options),
};

export function createBalancer(algorithm: BalanceAlgorithm, options: BalancerOptions): Balancer {
  const factory = factories[algorithm];
  if (!factory) throw new Error(`unknown balance algorithm: ${String(algorithm)}`);
  return factory(options);
}

export { isHashed } from '../../schema/snapshot.js';
