// A log-linear latency histogram in the spirit of HdrHistogram: constant memory, ~0.8 % precision,
// mergeable across processes (sent over IPC as sparse [index, count] pairs).

const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS; // 128 sub-buckets per power of two
const UNITS_PER_US = 10; // resolution 0.1 µs
const MAX_EXPONENT = 40;
const SIZE = SUB_COUNT + (MAX_EXPONENT - SUB_BITS + 1) * SUB_COUNT;

export type SparseHistogram = Array<[number, number]>;

export class Histogram {
  private counts = new Float64Array(SIZE);
  count = 0;
  max = 0;

  /** Records one latency in microseconds. */
  record(us: number): void {
    const v = Math.max(0, Math.round(us * UNITS_PER_US));
    this.counts[indexOf(v)]++;
    this.count++;
    if (us > this.max) this.max = us;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }

  /** Value (µs) at quantile q in 0..1; NaN when empty. */
  percentile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(valueOf(i), this.max);
    }
    return this.max;
  }

  toSparse(): SparseHistogram {
    const out: SparseHistogram = [];
    for (let i = 0; i < SIZE; i++) if (this.counts[i] > 0) out.push([i, this.counts[i]]);
    return out;
  }

  add(sparse: SparseHistogram, max: number): void {
    for (const [i, n] of sparse) {
      this.counts[i] += n;
      this.count += n;
    }
    if (max > this.max) this.max = max;
  }
}

function indexOf(v: number): number {
  if (v < SUB_COUNT) return v;
  const exponent = Math.min(MAX_EXPONENT, Math.floor(Math.log2(v)));
  const sub = Math.min(SUB_COUNT - 1, Math.floor(v / 2 ** (exponent - SUB_BITS)) - SUB_COUNT);
  return SUB_COUNT + (exponent - SUB_BITS) * SUB_COUNT + sub;
}

/** Midpoint of bucket i, in µs. */
function valueOf(i: number): number {
  if (i < SUB_COUNT) return i / UNITS_PER_US;
  const exponent = Math.floor((i - SUB_COUNT) / SUB_COUNT) + SUB_BITS;
  const sub = (i - SUB_COUNT) % SUB_COUNT;
  const width = 2 ** (exponent - SUB_BITS);
  return ((SUB_COUNT + sub) * width + width / 2) / UNITS_PER_US;
}
