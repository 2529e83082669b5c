// Live state of one frontend, keyed by name: its current config (swapped by apply), counters,
// compiled allow-list and listener.
import type { Bind, Frontend } from '../schema/snapshot.js';
import { AllowList } from './cidr.js';
import type { CmppCounters } from './cmpp-stats.js';
import type { Listener } from './listener.js';
import { Counters } from './stats.js';
import type { FrontendFailure } from './types.js';

export interface BindRetry {
  /** Attempts made since the frontend first failed (the failed bind of the apply not counted). */
  attempts: number;
  /** When the next attempt runs (epoch ms). */
  nextAt: number;
  timer: NodeJS.Timeout | null;
}

export class FrontendRuntime {
  readonly counters = new Counters();
  /** CMPP inspection counters, from the first inspected session on (cmpp-inspect.ts). */
  cmpp: CmppCounters | null = null;
  allow: AllowList | null = null;
  private allowSignature = '';
  /** One per bind it listens on; fewer than its binds while FAILED. */
  listeners: Listener[] = [];
  error: FrontendFailure | undefined;
  /** While FAILED: the bind is retried with backoff (bind-retry.ts). */
  retry: BindRetry | null = null;
  /** Removed from the snapshot; kept only while sessions remain. */
  retired = false;

  constructor(public config: Frontend) {
    this.update(config);
  }

  get name(): string {
    return this.config.name;
  }

  /** The binds of its config it has no listener for. */
  missingBinds(): Bind[] {
    if (this.listeners.length === 0) return this.config.binds;
    const listening = new Set(this.listeners.map((l) => bindKey(l)));
    return this.config.binds.filter((b) => !listening.has(bindKey(b)));
  }

  /** Listens on every one of its binds. */
  listensOnAll(): boolean {
    return this.listeners.length === this.config.binds.length && this.missingBinds().length === 0;
  }

  update(config: Frontend): void {
    this.config = config;
    const signature = config.allow === undefined ? '' : JSON.stringify(config.allow);
    if (signature !== this.allowSignature) {
      this.allowSignature = signature;
      this.allow = config.allow === undefined ? null : new AllowList(config.allow);
    }
  }
}

/** `address:port`, as listeners and binds are matched (addresses are canonical: config/normalize.ts). */
export function bindKey(bind: { address: string; port: number }): string {
  return `${bind.address}:${bind.port}`;
}
