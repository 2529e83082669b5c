// One probe per check type (tcp-probe.ts, later cmpp-probe.ts). A probe never throws.
import type { CheckStatus } from '../types.js';

export interface ProbeTarget {
  address: string;
  port: number;
}

export interface ProbeResult {
  ok: boolean;
  status: CheckStatus; // L4OK, L4TOUT, L4CON, SOCKERR, L7*
  durationMs: number;
  /** Short human text, e.g. "Connection refused". */
  description: string;
}

/**
 * `abandon`: aborted when the checker stops waiting for this probe (stopped, paused, replaced): the probe closes its
 * connection and settles at once, so an abandoned check holds no socket until its timeout (up to a day).
 */
export type Probe = (target: ProbeTarget, timeoutMs: number, abandon?: AbortSignal) => Promise<ProbeResult>;

/** What an abandoned probe settles with (the checker drops it as stale). */
export const ABANDONED = 'check abandoned';
