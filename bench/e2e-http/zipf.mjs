// A seeded Zipf sampler: ranks 1..n with P(rank) proportional to 1 / rank^s, so a few products get
// most of the traffic, as in a real shop. The same logic as sample-app/src/load/zipf.ts (CDF built
// once, a binary search per sample), fed by a seeded PRNG so that every variant of a round requests
// the same key sequence.

export class ZipfSampler {
  /**
   * @param {number} n ranks 1..n
   * @param {number} s exponent (1.1: the sample app's load script)
   */
  constructor(n, s) {
    this.n = n;
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let rank = 1; rank <= n; rank += 1) {
      sum += 1 / rank ** s;
      this.cdf[rank - 1] = sum;
    }
    for (let index = 0; index < n; index += 1) this.cdf[index] /= sum;
  }

  /** A rank from 1 (most popular) to n, for `u` uniform in [0, 1). */
  rank(u) {
    let low = 0;
    let high = this.n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.cdf[middle] < u) low = middle + 1;
      else high = middle;
    }
    return low + 1;
  }

  /** Share of the requests that go to the `top` most popular ranks. */
  shareOfTop(top) {
    return this.cdf[Math.min(Math.max(1, Math.round(top)), this.n) - 1];
  }
}

/** One variant's key sequence in one round: Zipf ranks from a seeded PRNG, counting distinct keys. */
export class KeyStream {
  /**
   * @param {ZipfSampler} sampler
   * @param {() => number} random uniform in [0, 1), seeded
   */
  constructor(sampler, random) {
    this.sampler = sampler;
    this.random = random;
    this.seen = new Uint8Array(sampler.n + 1);
    this.distinct = 0;
    this.requested = 0;
    this.next = this.next.bind(this);
  }

  /** The next product id (1 = most popular). */
  next() {
    const id = this.sampler.rank(this.random());
    this.requested += 1;
    if (this.seen[id] === 0) {
      this.seen[id] = 1;
      this.distinct += 1;
    }
    return id;
  }
}
