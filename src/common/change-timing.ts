// Where one change's time went, step by step, answered in the `Server-Timing` header (docs/rest-api.md,
// "Server-Timing"): a client can tell how long its change took to be live in every worker (its own time from
// sending the request to the answer, less the steps after `apply`) from the time spent storing and answering.
import type { Request } from 'express';

/**
 * The steps a change goes through, in order: `auth` (from the request reaching its route: credentials checked, body
 * read, credentials checked again), `turn` (validation, waiting for the change before it), `checks`,
 * `rehearse` (the store's dry run), `apply` (live in every worker when it ends), `store`, `answer` (until the
 * response is written).
 */
export type ChangeStep = 'auth' | 'turn' | 'checks' | 'rehearse' | 'apply' | 'store' | 'answer';

export class ChangeTiming {
  /** One entry per step (a fixed, small set), so the header stays short. */
  private readonly steps = new Map<ChangeStep, number>();
  private last = performance.now();

  /** Ends `step`, which ran since the previous mark. */
  mark(step: ChangeStep): void {
    const now = performance.now();
    this.steps.set(step, (this.steps.get(step) ?? 0) + (now - this.last));
    this.last = now;
  }

  /** `checks;dur=0.3, rehearse;dur=1.2, apply;dur=3.1, ...` (ms, 0.1 ms resolution). */
  header(): string {
    return [...this.steps].map(([step, ms]) => `${step};dur=${ms.toFixed(1)}`).join(', ');
  }
}

const TIMING = Symbol('tether:change-timing');

/** The timing a change route's request carries (started by AuthGuard or RevisionTagInterceptor), if any. */
export function changeTimingOf(request: Request): ChangeTiming | undefined {
  return (request as Request & { [TIMING]?: ChangeTiming })[TIMING];
}

export function startChangeTiming(request: Request): ChangeTiming {
  const timing = new ChangeTiming();
  (request as Request & { [TIMING]?: ChangeTiming })[TIMING] = timing;
  return timing;
}
