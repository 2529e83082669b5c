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

export type Probe = (target: ProbeTarget, timeoutMs: number) => Promise<ProbeResult>;
