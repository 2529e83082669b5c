import type { AuditActor } from './audit.service.js';

/**
 * A request refused by a rate limit (or, with `actor` and `kind: 'denied'`, by the role its caller has): recorded as
 * one audit row per source address (or known caller), action and window.
 */
export interface ThrottledAttempt {
  /** Who tried: anonymous when not given (a throttled login or token). */
  actor?: AuditActor;
  /** The first word of the row's detail: `throttled` unless said otherwise. */
  kind?: 'throttled' | 'denied' | 'failed';
  sourceAddress?: string;
  /** e.g. auth.login, auth.token */
  action: string;
  /** The target of the first attempt of the window (the username tried, say). */
  target?: string;
  /** Which limit was exceeded, e.g. "more than 10 attempts a minute from this address". */
  detail: string;
}

export interface AttemptWindow {
  readonly attempt: ThrottledAttempt;
  readonly start: number;
  count: number;
  /** The count the audit row shows. */
  written: number;
  /** Id of the window's audit row once inserted (undefined if it could not be). */
  row?: Promise<number | undefined>;
}

/** Where attempts go once this many source addresses have a window: one shared row per action. */
export const MANY_SOURCES = 'many addresses';

/**
 * Counts throttled attempts per (action, source address) in fixed windows, so that a flood of thousands of refused
 * requests makes one audit row per source and window, updated with its count, instead of one row each. Bounded: past
 * `maxWindows` open windows, further sources share one window per action.
 */
export class ThrottledAttemptWindows {
  private readonly windows = new Map<string, AttemptWindow>();

  constructor(
    readonly windowMs = 60_000,
    private readonly maxWindows = 10_000,
  ) {}

  /** Counts an attempt; `first` when it opened a window (its row is to be inserted). */
  count(attempt: ThrottledAttempt, now: number): { window: AttemptWindow; first: boolean } {
    const start = now - (now % this.windowMs);
    // A known caller gets one window per action, whatever address or target it tries (kept from its first attempt):
    // the number of callers is bounded by the users and tokens an admin made. Anonymous ones, one per address.
    let key = attempt.actor
      ? `${start}|${attempt.action}|caller|${attempt.actor.username}`
      : `${start}|${attempt.action}|${attempt.sourceAddress ?? ''}`;
    if (!this.windows.has(key) && this.windows.size >= this.maxWindows) {
      key = `${start}|${attempt.action}|${MANY_SOURCES}|${attempt.actor?.username ?? ''}`;
      attempt = { ...attempt, sourceAddress: MANY_SOURCES, target: undefined };
    }
    const window = this.windows.get(key);
    if (window) {
      window.count++;
      return { window, first: false };
    }
    // Windows of earlier minutes stay (under their own key) until forgetEnded, after their last write.
    const opened: AttemptWindow = { attempt, start, count: 1, written: 0 };
    this.windows.set(key, opened);
    return { window: opened, first: true };
  }

  /** Windows whose row shows less than their count. */
  unwritten(): AttemptWindow[] {
    return [...this.windows.values()].filter((w) => w.count > w.written);
  }

  /** Drops windows that have ended and whose row is up to date. */
  forgetEnded(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start >= this.windowMs && window.count === window.written) this.windows.delete(key);
    }
  }

  get open(): number {
    return this.windows.size;
  }
}

/** The detail of a window's row: how many attempts, in which window, over which limit. */
export function describeWindow(window: AttemptWindow, windowMs: number): string {
  const from = new Date(window.start).toISOString();
  const to = new Date(window.start + windowMs).toISOString();
  return `${window.attempt.kind ?? 'throttled'}: ${window.count} attempt(s) from ${from} to ${to}, ${window.attempt.detail}`;
}
