/** Options of a keyspace's hot-key tracking. */
export interface HotKeyOptions {
  /** Keys tracked at most (memory bound); the least popular are dropped beyond it. @default 1000 */
  capacity?: number;
  /** Time for a key's score to halve without new reads. @default 60000 (1 minute) */
  halfLifeMs?: number;
  /**
   * Record one cache hit in this many (misses and peer requests are always recorded). Sampling keeps
   * the hit path cheap; popularity is relative, so a constant factor changes no ranking.
   * @default 32
   */
  hitSampling?: number;
}

interface Score {
  value: number;
  at: number;
}

/**
 * Recent popularity of keys with exponential decay: each read adds 1 to the key's score and scores
 * halve every `halfLifeMs`. Memory is bounded: past twice `capacity` keys, the lowest-scoring ones
 * are dropped (amortised: one sort per `capacity` new keys).
 */
export class HotKeyTracker {
  private readonly scores = new Map<string, Score>();
  private hits = 0;
  readonly capacity: number;
  private readonly halfLifeMs: number;
  private readonly hitSampling: number;

  constructor(options: HotKeyOptions = {}) {
    this.capacity = options.capacity ?? 1_000;
    this.halfLifeMs = options.halfLifeMs ?? 60_000;
    this.hitSampling = options.hitSampling ?? 32;
  }

  /** Keys tracked now. */
  get size(): number {
    return this.scores.size;
  }

  /**
   * Records a cache hit (sampled). A hit only adds a key while there is room: keys enter through
   * misses and peer requests, which every cached key had. Letting every sampled hit insert made the
   * tracker sort itself over and over under uniform access to many keys, and cost a third of the
   * local-hit rate (bench/README.md, "Local hit").
   */
  hit(key: string, now: () => number): void {
    if (++this.hits < this.hitSampling) return;
    this.hits = 0;
    if (this.scores.size >= this.capacity && !this.scores.has(key)) return;
    this.record(key, now(), this.hitSampling);
  }

  /** Records a read that is always counted (a miss, a peer request), with `weight`. */
  record(key: string, now: number, weight = 1): void {
    const score = this.scores.get(key);
    if (score === undefined) {
      this.scores.set(key, { value: weight, at: now });
      if (this.scores.size > this.capacity * 2) this.compact(now);
      return;
    }
    score.value = this.decayed(score, now) + weight;
    score.at = now;
  }

  /** The `limit` most popular keys now, most popular first, with their decayed scores. */
  top(limit: number, now: number): Array<[key: string, score: number]> {
    return [...this.scores]
      .map(([key, score]): [string, number] => [key, this.decayed(score, now)])
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit);
  }

  /** Forgets a key (deleted, or its keyspace dropped). */
  forget(key: string): void {
    this.scores.delete(key);
  }

  clear(): void {
    this.scores.clear();
  }

  private decayed(score: Score, now: number): number {
    const elapsed = now - score.at;
    return elapsed <= 0 ? score.value : score.value * 2 ** (-elapsed / this.halfLifeMs);
  }

  private compact(now: number): void {
    const keep = new Set(this.top(this.capacity, now).map(([key]) => key));
    for (const key of this.scores.keys()) if (!keep.has(key)) this.scores.delete(key);
  }
}
