/** Options of a keyspace's popular-key tracking. */
export interface PopularKeysOptions {
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
 * While the tracker is full, a key it does not hold enters on one of this many misses or peer
 * requests. Under uniform access to many more keys than `capacity`, admitting every one made the
 * tracker compact itself every `capacity` misses: 5-6% of a non-owner's and of an owner's CPU at
 * ~100k remote reads/s (bench/README.md, "Remote hit"). A key that is really popular is read again
 * and gets in anyway.
 */
const ADMIT_WHEN_FULL = 8;

/**
 * Recent popularity of keys with exponential decay: each read adds 1 to the key's score and scores
 * halve every `halfLifeMs`. Memory is bounded: past twice `capacity` keys, the lowest-scoring ones
 * are dropped (amortised: one pass per `capacity` admitted keys).
 */
export class PopularKeys {
  private readonly scores = new Map<string, Score>();
  private hits = 0;
  private refused = 0;
  readonly capacity: number;
  private readonly halfLifeMs: number;
  private readonly hitSampling: number;

  constructor(options: PopularKeysOptions = {}) {
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

  /**
   * Records a read that is always counted (a miss, a peer request), with `weight`. A key not yet
   * tracked is added while there is room; once `capacity` keys are tracked, on one call in
   * {@link ADMIT_WHEN_FULL}.
   */
  record(key: string, now: number, weight = 1): void {
    const score = this.scores.get(key);
    if (score === undefined) {
      if (this.scores.size >= this.capacity && ++this.refused < ADMIT_WHEN_FULL) return;
      this.refused = 0;
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

  /** Keeps the `capacity` best-scoring keys: one sort of a typed array, no tuples. */
  private compact(now: number): void {
    const sorted = new Float64Array(this.scores.size);
    let index = 0;
    for (const score of this.scores.values()) {
      score.value = this.decayed(score, now);
      score.at = now;
      sorted[index++] = score.value;
    }
    sorted.sort();
    // The lowest score kept; keys scoring exactly this much are dropped only while there are too many.
    const threshold = sorted[sorted.length - this.capacity] ?? 0;
    for (const [key, score] of this.scores) {
      if (score.value < threshold) this.scores.delete(key);
    }
    let excess = this.scores.size - this.capacity;
    for (const [key, score] of this.scores) {
      if (excess <= 0) break;
      if (score.value === threshold) {
        this.scores.delete(key);
        excess -= 1;
      }
    }
  }
}
