// Counters with HAProxy meanings, a per-second rate meter, and the once-a-second history ring.
// Byte counts of live sessions live on the sessions themselves (one add per read on the hot path);
// the counters here hold what finished sessions left behind, and stats() adds the live part.
import type { StatsSample } from './types.js';

/** Events per second over the last second, HAProxy's freq_ctr: the previous full second weighted
 *  by how much of it still overlaps the sliding one-second window, plus the current second. */
export class RateMeter {
  private second = 0;
  private current = 0;
  private previous = 0;
  max = 0;

  hit(now: number): void {
    this.roll(now);
    this.current++;
    const rate = this.rate(now);
    if (rate > this.max) this.max = rate;
  }

  rate(now: number): number {
    this.roll(now);
    const elapsed = (now % 1000) / 1000;
    return this.current + Math.round(this.previous * (1 - elapsed));
  }

  private roll(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.second) return;
    this.previous = second === this.second + 1 ? this.current : 0;
    this.current = 0;
    this.second = second;
  }
}

/** Totals of one frontend or server; survives applies because it is keyed by name. */
export class Counters {
  scur = 0;
  smax = 0;
  stot = 0;
  /** Bytes of sessions that have ended. */
  bin = 0;
  bout = 0;
  econ = 0;
  wretr = 0;
  wredis = 0;
  lbtot = 0;
  denied = 0;
  noServer = 0;
  drops = 0;
  readonly rate = new RateMeter();

  open(now: number): void {
    this.stot++;
    if (++this.scur > this.smax) this.smax = this.scur;
    this.rate.hit(now);
  }
}

/**
 * Figures (one frontend's or one server's) all the samples of a ring may hold together. A sample holds one per
 * frontend and server: with the 20,000 servers a config may have, 1,200 samples were ~2.3 GB of heap (the process
 * ran out of memory) and their JSON longer than a string may be. About 100 bytes each: ~200 MB at most.
 */
export const HISTORY_FIGURES_MAX = 2_000_000;

/**
 * Ring of once-a-second samples, oldest first when read: at most `size` samples and, in a very large config,
 * fewer, so that they hold at most `maxFigures` figures together (the oldest go first; the newest always stays).
 */
export class HistoryRing {
  private readonly samples: StatsSample[] = [];
  /** Figures of each sample in `samples`, and their sum. */
  private readonly figures: number[] = [];
  private total = 0;

  constructor(
    readonly size: number,
    readonly maxFigures = HISTORY_FIGURES_MAX,
  ) {}

  push(sample: StatsSample): void {
    let n = 0;
    for (const _ in sample.frontends) n++;
    for (const _ in sample.servers) n++;
    this.samples.push(sample);
    this.figures.push(n);
    this.total += n;
    // Once a second, at most `size` (1,200) entries: shifting them is cheap.
    while (this.samples.length > 1 && (this.samples.length > this.size || this.total > this.maxFigures)) {
      this.samples.shift();
      this.total -= this.figures.shift()!;
    }
  }

  toArray(): StatsSample[] {
    return this.samples.slice();
  }
}
