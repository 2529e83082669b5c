// Live state of one frontend, keyed by name: its current config (swapped by apply), counters,
// compiled allow-list and listener.
import type { Frontend } from '../schema/snapshot.js';
import { AllowList } from './cidr.js';
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
  allow: AllowList | null = null;
  private allowSignature = '';
  listener: Listener | null = null;
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

  update(config: Frontend): void {
    this.config = config;
    const signature = config.allow === undefined ? '' : JSON.stringify(config.allow);
    if (signature !== this.allowSignature) {
      this.allowSignature = signature;
      this.allow = config.allow === undefined ? null : new AllowList(config.allow);
    }
  }
}
