/**
 * Most keys remembered one by one; past it the oldest are forgotten and every key counts as removed
 * at the time of the newest one forgotten. Refusing a hand-off never loses data (the key is loaded
 * on demand), so this bounds memory (at most ~3 MB per keyspace with 64-byte keys, measured 289 B
 * per key) rather than being an option: beyond it, a keyspace deleting more than ~900 keys/s with
 * the default timeouts gets no hand-offs during the window.
 */
export const RECENT_REMOVALS_LIMIT = 10_000;

/**
 * When keys of one keyspace were last removed on this node (a delete, an invalidation, a clear, a
 * tag revocation), for `windowMs`. A popular-key hand-off is a SET if absent that the key's
 * previous owner read before sending: "absent" cannot tell a key never loaded here from one just
 * deleted here, so a hand-off that reaches this node after a delete would bring the deleted value
 * back. A hand-off is refused when the key, or any key (clear, overflow), or any tag it carries was
 * removed within the window: how long a hand-off read before the removal can still arrive.
 */
export class RecentRemovals {
  /** Key -> when removed, oldest first (a key removed again moves to the end). */
  private readonly keys = new Map<string, number>();
  /** Every key counts as removed at this time (a clear, or keys forgotten past the limit). */
  private allAt = Number.NEGATIVE_INFINITY;
  /** Tagged values count as removed at this time (tags are revoked without listing keys). */
  private tagsAt = Number.NEGATIVE_INFINITY;

  /** @param windowMs how long a removal is remembered (read at each call: options can change) */
  constructor(
    private readonly windowMs: () => number,
    private readonly limit = RECENT_REMOVALS_LIMIT,
  ) {}

  /** Remembers that `key` was removed at `now`, forgetting what is older than the window. */
  key(key: string, now: number): void {
    const { keys } = this;
    keys.delete(key);
    keys.set(key, now);
    const since = now - this.windowMs();
    for (const [old, at] of keys) {
      if (at >= since && keys.size <= this.limit) break;
      keys.delete(old);
      if (at >= since) this.allAt = Math.max(this.allAt, at);
    }
  }

  /** Every key was removed at `now`. */
  all(now: number): void {
    this.keys.clear();
    this.allAt = now;
  }

  /** Some tags were revoked at `now`. */
  tags(now: number): void {
    this.tagsAt = now;
  }

  /** True when `key` (carrying tags when `tagged`) may have been removed within the window. */
  removedLately(key: string, tagged: boolean, now: number): boolean {
    const since = now - this.windowMs();
    if (this.allAt >= since || (tagged && this.tagsAt >= since)) return true;
    return (this.keys.get(key) ?? Number.NEGATIVE_INFINITY) >= since;
  }

  /** Keys remembered one by one (for tests and stats). */
  get size(): number {
    return this.keys.size;
  }
}
