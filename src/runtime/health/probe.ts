// One probe per check type (tcp-probe.ts, tcp-check-probe.ts, cmpp-probe.ts). A probe never throws.
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
  /** The layer-7 code of the answer, when the protocol has one (CMPP: the CONNECT_RESP status): HAProxy's check_code. */
  code?: number;
}

/**
 * `abandon`: aborted when the checker stops waiting for this probe (stopped, paused, replaced): the probe closes its
 * connection and settles at once, so an abandoned check holds no socket until its timeout (up to a day).
 */
export type Probe = (target: ProbeTarget, timeoutMs: number, abandon?: AbortSignal) => Promise<ProbeResult>;

/** What an abandoned probe settles with (the checker drops it as stale). */
export const ABANDONED = 'check abandoned';

/** How a probe ends: once, with its result; `how` is the probe's own way to close (a flush, a goodbye frame). */
export interface ProbeEnd<How> {
  finish(ok: boolean, status: CheckStatus, description: string, how?: How, code?: number): void;
  readonly settled: boolean;
}

/**
 * What every probe shares: one timer for its timeout (`onTimeout` picks the status, by how far the probe got), the
 * abandon signal, settling once, closing its connection (`close`) before the result, and the duration. When
 * `abandon` is already aborted it has settled on return: the probe opens nothing.
 */
export function probeEnd<How = never>(
  resolve: (result: ProbeResult) => void,
  timeoutMs: number,
  abandon: AbortSignal | undefined,
  onTimeout: () => void,
  close: (how: How | undefined) => void,
): ProbeEnd<How> {
  const started = performance.now();
  let settled = false;
  const timer = setTimeout(onTimeout, Math.max(1, timeoutMs));
  timer.unref();
  const finish = (ok: boolean, status: CheckStatus, description: string, how?: How, code?: number) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    abandon?.removeEventListener('abort', onAbandon);
    close(how);
    const durationMs = Math.round(performance.now() - started);
    resolve(
      code === undefined
        ? { ok, status, description, durationMs }
        : { ok, status, description, durationMs, code },
    );
  };
  const onAbandon = () => finish(false, 'SOCKERR', ABANDONED);
  if (abandon?.aborted) onAbandon();
  else abandon?.addEventListener('abort', onAbandon, { once: true });
  return {
    finish,
    get settled() {
      return settled;
    },
  };
}

/** An error's message for a check's text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
