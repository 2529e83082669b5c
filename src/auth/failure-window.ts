/**
 * Failures per source address in fixed windows (one minute by default): once a source has `limit` failures in its
 * window, it must wait for the window to end. Bounded: at most `maxSources` addresses are tracked; past that the
 * oldest windows are forgotten first (insertion order is window order, so that is the front of the map).
 */
export class FailureWindow {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxSources = 10_000,
  ) {}

  /** Whole seconds until `source` may try again; 0 if it may now. */
  retryAfterSeconds(source: string, now = Date.now()): number {
    const window = this.windows.get(source);
    if (!window || now - window.start >= this.windowMs || window.count < this.limit) return 0;
    return Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000));
  }

  fail(source: string, now = Date.now()): void {
    const window = this.windows.get(source);
    if (window && now - window.start < this.windowMs) {
      window.count++;
      return;
    }
    this.windows.delete(source);
    for (const [oldest, entry] of this.windows) {
      if (this.windows.size < this.maxSources && now - entry.start < this.windowMs) break;
      this.windows.delete(oldest);
    }
    this.windows.set(source, { start: now, count: 1 });
  }

  /** Takes back one failure counted ahead of a check that then succeeded (see AuthService.authenticate). */
  forgive(source: string, now = Date.now()): void {
    const window = this.windows.get(source);
    if (!window) return;
    if (now - window.start < this.windowMs && window.count > 1) window.count--;
    // Nothing left to count: a source whose checks all held takes no room from the ones that keep failing.
    else this.windows.delete(source);
  }

  get trackedSources(): number {
    return this.windows.size;
  }
}
