/**
 * Samples ranks 1..n with P(rank) proportional to 1 / rank^s (Zipf): a few products get most of
 * the traffic, as in a real shop. Precomputes the CDF once; each sample is a binary search.
 */
export class ZipfSampler {
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    readonly s: number,
    private readonly random: () => number = Math.random,
  ) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let rank = 1; rank <= n; rank += 1) {
      sum += 1 / rank ** s;
      this.cdf[rank - 1] = sum;
    }
    for (let index = 0; index < n; index += 1) this.cdf[index] = this.cdf[index]! / sum;
  }

  /** A rank from 1 (most popular) to n. */
  next(): number {
    const target = this.random();
    let low = 0;
    let high = this.n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.cdf[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low + 1;
  }
}
