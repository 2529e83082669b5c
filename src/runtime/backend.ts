// Live state of backends and servers, keyed by name so that it survives applies that don't touch it.
import type { Backend, Server } from '../schema/snapshot.js';
import type { BalancedServer, Balancer } from './balancers/balancer.js';
import { createBalancer } from './balancers/registry.js';
import type { CmppCounters } from './cmpp-stats.js';
import type { HealthChecker } from './health/checker.js';
import type { Session } from './session.js';
import { Counters } from './stats.js';
import type { AdminState, Health } from './types.js';

/** What a balancer sees of a server, kept on the server so no object is built per connection. */
export interface Candidate extends BalancedServer {
  server: ServerRuntime;
}

export class ServerRuntime {
  adminState: AdminState = 'ready';
  /** The IP address connections and checks go to: the configured one, or its host name's answer. */
  ip = '';
  /** Set while the server's host name no longer resolves (the server is DOWN): the check description. */
  dnsError: string | undefined;
  /** UP unless a checker (or nothing, for unchecked servers) says otherwise. */
  health: Health = 'UP';
  checker: HealthChecker | undefined;
  /** Check settings the running checker was built with; a change restarts it. */
  checkerSignature = '';
  /** Time of the last UP/DOWN change, for servers whose checker was replaced or is absent. */
  lastChangeAt = Date.now();
  readonly counters = new Counters();
  /** CMPP inspection counters, from the first inspected frame it carried on (cmpp-inspect.ts). */
  cmpp: CmppCounters | null = null;
  /** Check totals of checkers this server had before the current one (restarts keep the history). */
  chkfailBase = 0;
  chkdownBase = 0;
  downtimeBaseMs = 0;
  readonly sessions = new Set<Session>();
  /** Sessions other worker processes reported for this server (docs/workers.md, leastconn); 0 without workers. */
  remoteSessions = 0;
  /** Removed from the snapshot but still carrying sessions. */
  retired = false;
  readonly candidate: Candidate;

  constructor(
    readonly backendName: string,
    public config: Server,
    index: number,
  ) {
    this.candidate = { name: config.name, weight: config.weight, index, sessions: 0, server: this };
  }

  get key(): string {
    return `${this.backendName}/${this.config.name}`;
  }

  update(config: Server, index: number): void {
    this.config = config;
    this.candidate.weight = config.weight;
    this.candidate.index = index;
  }
}

/** Backend-level totals that are not sums over servers (sessions that found no server). */
export class BackendRuntime {
  servers: ServerRuntime[] = [];
  readonly byName = new Map<string, ServerRuntime>();
  active: Balancer;
  backup: Balancer;
  private balancerSignature = '';
  readonly counters = new Counters();
  /** Backend UP/DOWN (any usable server) tracking, like HAProxy's backend lastchg/downtime. */
  up = true;
  lastChangeAt = Date.now();
  downSince = 0;
  downtimeMs = 0;
  /** Times the backend itself went DOWN (no usable server left): HAProxy's backend chkdown, not a sum over servers. */
  downCount = 0;
  /** False until the first setUp: the state a backend starts in is not a transition (HAProxy counts 0 for a
   *  backend whose servers all start in maintenance or at weight 0; docs/events.md). */
  private settled = false;

  constructor(public config: Backend) {}

  get name(): string {
    return this.config.name;
  }

  /** Rebuilds balancers only when something they depend on changed, so roundrobin position and
   *  rings survive unrelated applies. */
  refreshBalancers(): void {
    const tier = (backup: boolean) =>
      this.config.servers
        .map((s, index) => ({ name: s.name, weight: s.weight, index, backup: s.backup }))
        .filter((s) => s.backup === backup)
        .map(({ name, weight, index }) => ({ name, weight, index }));
    const active = tier(false);
    const backup = tier(true);
    const signature = JSON.stringify([this.config.balance, this.config.hashType, active, backup]);
    if (signature === this.balancerSignature) return;
    this.balancerSignature = signature;
    this.active = createBalancer(this.config.balance, { hashType: this.config.hashType, servers: active });
    this.backup = createBalancer(this.config.balance, { hashType: this.config.hashType, servers: backup });
  }

  setUp(up: boolean, now: number): void {
    const initial = !this.settled;
    this.settled = true;
    if (up === this.up) return;
    this.up = up;
    this.lastChangeAt = now;
    if (up) this.downtimeMs += now - this.downSince;
    else {
      this.downSince = now;
      if (!initial) this.downCount++;
    }
  }

  downtime(now: number): number {
    return this.downtimeMs + (this.up ? 0 : now - this.downSince);
  }
}
