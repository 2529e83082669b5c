// Fixed-bucket latency histogram for the SP simulator: buckets grow by 10 %, from 10 µs to ~100 s,
// so memory is constant and a percentile is within 10 % of the true value.

const MIN_MS = 0.01;
const GROWTH = 1.1;
const BUCKETS = Math.ceil(Math.log(1e5 / MIN_MS) / Math.log(GROWTH)) + 1;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;

  record(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(GROWTH)));
    this.counts[i]++;
    this.count++;
  }

  /** Upper bound (ms) of the bucket holding quantile q (0..1); NaN when empty. */
  percentile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return MIN_MS * GROWTH ** i;
    }
    return MIN_MS * GROWTH ** (BUCKETS - 1);
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
  }
}
