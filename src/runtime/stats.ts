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

/** Fixed-size ring of once-a-second samples, oldest first when read. */
export class HistoryRing {
  private readonly samples: StatsSample[] = [];
  private next = 0;

  constructor(readonly size: number) {}

  push(sample: StatsSample): void {
    if (this.samples.length < this.size) this.samples.push(sample);
    else this.samples[this.next] = sample;
    this.next = (this.next + 1) % this.size;
  }

  toArray(): StatsSample[] {
    if (this.samples.length < this.size) return this.samples.slice();
    return this.samples.slice(this.next).concat(this.samples.slice(0, this.next));
  }
}
