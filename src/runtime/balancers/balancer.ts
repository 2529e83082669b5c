// A balancer is one method: pick one of the usable candidates. Availability (DOWN, drain, maint,
// weight 0, maxconn, backup tiers) is decided once by the caller, outside the algorithms.

export interface BalancedServer {
  /** Unique within the backend; the stable identity used for hashing. */
  name: string;
  weight: number; // 1..256 (weight-0 servers are never candidates)
  /** Position in the backend's configured server list (HAProxy's server id order). */
  index: number;
  /** Live sessions on this server (for leastconn). */
  sessions: number;
}

export interface BalanceContext {
  /** Client IP as the listener saw it (IPv4-mapped IPv6 already unwrapped). */
  clientAddress: string;
  /** SP account (CMPP Source_Addr) when known, for cmpp-account. */
  account?: string;
}

export interface Balancer {
  /** Returns one of `candidates` (never another object), or undefined when candidates is empty. */
  elect(candidates: readonly BalancedServer[], context: BalanceContext): BalancedServer | undefined;
}

export interface BalancerOptions {
  hashType: 'consistent' | 'map-based';
  /** Every configured server of the tier (active or backup) the balancer serves, usable or not:
   *  the consistent ring is built over all of them so that a server going away moves only its share. */
  servers: ReadonlyArray<{ name: string; weight: number; index: number }>;
}
