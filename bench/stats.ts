// A latency histogram that workers fill and the parent merges: fixed size, so a
// worker sends a few kilobytes to the parent however many puts it made, and
// percentiles stay within 1% of the true value.
//
// Layout (log-linear, like HdrHistogram with 2 significant digits): values are
// microseconds. Below 128 µs every value has its own bucket. Above, each power
// of two [2^e, 2^(e+1)) is cut into 128 equal buckets, so a bucket is at most
// 1/128 of its value wide. Worked example: 1500 µs has e = 10, so buckets in
// that octave are 2^(10-7) = 8 µs wide; 1500 >>> 3 = 187, and the bucket is
// index 128 + (10 - 7) * 128 + (187 - 128) = 571, covering [1496, 1504) µs.

const subBucketBits = 7;
const subBucketCount = 1 << subBucketBits; // 128
/** Latencies above this are clamped into the last bucket (about 35 minutes). */
export const latencyUsMax = 2 ** 31 - 1;
const octaveMax = 30; // floor(log2(latencyUsMax))
const bucketCount = subBucketCount + (octaveMax - subBucketBits + 1) * subBucketCount;

/** What crosses the process boundary: only the non-empty buckets. */
export interface HistogramSnapshot {
  /** Pairs of [bucket index, count]. */
  buckets: Array<[number, number]>;
  count: number;
  sumUs: number;
  minUs: number;
  maxUs: number;
}

function bucketIndex(valueUs: number): number {
  const value = Math.min(Math.max(0, Math.floor(valueUs)), latencyUsMax);
  if (value < subBucketCount) return value;
  const octave = 31 - Math.clz32(value);
  const shift = octave - subBucketBits;
  const mantissa = value >>> shift; // in [128, 256)
  return subBucketCount + shift * subBucketCount + (mantissa - subBucketCount);
}

/** The middle of a bucket's range, in microseconds. */
function bucketMiddleUs(index: number): number {
  if (index < subBucketCount) return index;
  const shift = Math.floor((index - subBucketCount) / subBucketCount);
  const mantissa = subBucketCount + ((index - subBucketCount) % subBucketCount);
  const width = 2 ** shift;
  return mantissa * width + width / 2;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(bucketCount);
  private countTotal = 0;
  private sumUs = 0;
  private minUs = Number.POSITIVE_INFINITY;
  private maxUs = 0;

  record(latencyUs: number): void {
    this.addToBucket(bucketIndex(latencyUs), 1);
    this.countTotal += 1;
    this.sumUs += latencyUs;
    if (latencyUs < this.minUs) this.minUs = latencyUs;
    if (latencyUs > this.maxUs) this.maxUs = latencyUs;
  }

  get count(): number {
    return this.countTotal;
  }

  merge(snapshot: HistogramSnapshot): void {
    for (const [index, count] of snapshot.buckets) {
      if (!Number.isInteger(index) || index < 0 || index >= bucketCount) {
        throw new Error(`histogram bucket ${index} is out of range [0, ${bucketCount})`);
      }
      this.addToBucket(index, count);
    }
    this.countTotal += snapshot.count;
    this.sumUs += snapshot.sumUs;
    if (snapshot.count > 0) {
      this.minUs = Math.min(this.minUs, snapshot.minUs);
      this.maxUs = Math.max(this.maxUs, snapshot.maxUs);
    }
  }

  snapshot(): HistogramSnapshot {
    const buckets: Array<[number, number]> = [];
    this.counts.forEach((count, index) => {
      if (count > 0) buckets.push([index, count]);
    });
    return { buckets, count: this.countTotal, sumUs: this.sumUs, minUs: this.minUs, maxUs: this.maxUs };
  }

  /** The latency at quantile q (0 < q <= 1), in microseconds; NaN when empty. */
  quantileUs(q: number): number {
    if (!(q > 0 && q <= 1)) throw new Error(`quantile must be in (0, 1], got ${q}`);
    if (this.countTotal === 0) return Number.NaN;
    return this.valueAtRankUs(Math.ceil(q * this.countTotal));
  }

  /** The rank-th smallest latency (1-based, 1 <= rank <= count), in microseconds. */
  valueAtRankUs(rank: number): number {
    if (!(Number.isInteger(rank) && rank >= 1 && rank <= this.countTotal)) {
      throw new Error(`rank must be an integer from 1 to ${this.countTotal}, got ${rank}`);
    }
    let seen = 0;
    for (const [index, count] of this.counts.entries()) {
      seen += count;
      // The exact extremes are known; a bucket middle could fall outside them.
      if (seen >= rank) return Math.min(Math.max(bucketMiddleUs(index), this.minUs), this.maxUs);
    }
    return this.maxUs;
  }

  meanUs(): number {
    return this.countTotal === 0 ? Number.NaN : this.sumUs / this.countTotal;
  }

  maxLatencyUs(): number {
    return this.countTotal === 0 ? Number.NaN : this.maxUs;
  }

  /** Adds `count` to bucket `index`: bucketIndex() keeps indexes in range, and merge() checks the ones it is sent. */
  private addToBucket(index: number, count: number): void {
    const current = this.counts[index];
    if (current === undefined) throw new Error(`histogram bucket ${index} is out of range [0, ${bucketCount})`);
    this.counts[index] = current + count;
  }
}

/**
 * Quantile q (0 < q <= 1) of a signed distribution kept as two histograms:
 * `negative` holds the magnitudes of the values below zero, `positive` the
 * others. NaN when both are empty. Worked example: negative holds {2, 5} (the
 * values -2 and -5) and positive holds {1, 4}; sorted, the values are
 * -5, -2, 1, 4, so q = 0.25 gives -5, q = 0.5 gives -2, q = 0.75 gives 1.
 */
export function signedQuantileUs(negative: LatencyHistogram, positive: LatencyHistogram, q: number): number {
  if (!(q > 0 && q <= 1)) throw new Error(`quantile must be in (0, 1], got ${q}`);
  const total = negative.count + positive.count;
  if (total === 0) return Number.NaN;
  const rank = Math.ceil(q * total);
  // The rank-th smallest signed value is the (negative.count - rank + 1)-th smallest magnitude, negated.
  if (rank <= negative.count) return -negative.valueAtRankUs(negative.count - rank + 1);
  return positive.valueAtRankUs(rank - negative.count);
}
