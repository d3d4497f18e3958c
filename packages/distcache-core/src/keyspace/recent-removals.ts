import { itemBytes } from './bookkeeping';

/**
 * Most keys remembered one by one (both generations together); past it, or past the bytes the
 * keyspace allows them (`bookkeeping.ts`: charged ~136 B per 64-byte key, an eighth of its
 * entries' budget at most), every key counts as removed now. Refusing a hand-off never loses data
 * (the key is loaded on demand), so this bounds memory rather than being an option: beyond it, a
 * cluster writing more than ~600 distinct keys/s of one keyspace with the default timeouts (a
 * window of 16 s) gets no hand-offs for that keyspace.
 */
export const RECENT_REMOVALS_LIMIT = 20_000;

/**
 * When keys of one keyspace were last removed or written on this node (a delete, an invalidation,
 * a write from a peer, a clear, a tag revocation), for at least `windowMs`. A popular-key hand-off
 * is a SET if absent that the key's previous owner read before sending: "absent" cannot tell a key
 * never loaded here from one just deleted here (nor from a newer value that expired or was evicted
 * since), so a hand-off that reaches this node after such a write would bring the older value
 * back. A hand-off is refused when the key, or any key (a clear, an overflow), or any tag it carries
 * was removed or written within the window: how long a hand-off read before it can still arrive.
 *
 * Two generations of one window each: a generation is dropped whole, so a removal costs one `Map`
 * write whatever the rate. (Expiring keys one by one from a single `Map` cost 16-24 µs per removal
 * at 10,000 keys, measured: V8 iterators step over the slots deleted at the front again on every
 * call.) A key is remembered for one to two windows, never less.
 */
export class RecentRemovals {
  /** Keys removed since `currentSince`. */
  private current = new Map<string, number>();
  /** Keys removed in the window before `currentSince`. */
  private previous = new Map<string, number>();
  /** Heap of `current` and `previous`, their keys included. */
  private currentBytes = 0;
  private previousBytes = 0;
  private currentSince = Number.NEGATIVE_INFINITY;
  /** Every key counts as removed at this time (a clear, or more keys than the limit). */
  private allAt = Number.NEGATIVE_INFINITY;
  /** Tagged values count as removed at this time (tags are revoked without listing keys). */
  private tagsAt = Number.NEGATIVE_INFINITY;

  /**
   * @param windowMs how long a removal is remembered at least (read at each call: options change)
   * @param maxBytes most bytes the keys remembered one by one may hold (read at each call)
   */
  constructor(
    private readonly windowMs: () => number,
    private readonly maxBytes: () => number = () => Number.POSITIVE_INFINITY,
    private readonly limit = RECENT_REMOVALS_LIMIT,
  ) {}

  /** Heap the keys remembered one by one hold. */
  get bytes(): number {
    return this.currentBytes + this.previousBytes;
  }

  /** Remembers that `key` was removed (or written) at `now`. */
  key(key: string, now: number): void {
    this.age(now);
    const { size } = this.current;
    this.current.set(key, now);
    if (this.current.size > size) this.currentBytes += itemBytes('removal', key);
    if (this.current.size + this.previous.size > this.limit || this.bytes > this.maxBytes()) this.all(now);
  }

  /**
   * Starts a new generation when the current one is a window old, dropping the one before it
   * (called on every removal, and by the purge timer so that keys stop being held once no removal
   * comes): a key is remembered for one to two windows, never less.
   */
  age(now: number): void {
    if (now - this.currentSince < this.windowMs()) return;
    this.previous = this.current;
    this.previousBytes = this.currentBytes;
    this.current = new Map();
    this.currentBytes = 0;
    this.currentSince = now;
  }

  /** Every key was removed at `now`. */
  all(now: number): void {
    this.current = new Map();
    this.previous = new Map();
    this.currentBytes = 0;
    this.previousBytes = 0;
    this.allAt = Math.max(this.allAt, now);
  }

  /** Some tags were revoked at `now`. */
  tags(now: number): void {
    this.tagsAt = Math.max(this.tagsAt, now);
  }

  /** True when `key` (carrying tags when `tagged`) may have been removed within the window. */
  removedLately(key: string, tagged: boolean, now: number): boolean {
    const since = now - this.windowMs();
    if (this.allAt >= since || (tagged && this.tagsAt >= since)) return true;
    const at = this.current.get(key) ?? this.previous.get(key) ?? Number.NEGATIVE_INFINITY;
    return at >= since;
  }

  /** True when every key counts as removed at some time from `since` on ({@link all}). */
  allSince(since: number): boolean {
    return this.allAt >= since;
  }

  /** The keys remembered one by one, each once. */
  *keys(): IterableIterator<string> {
    yield* this.current.keys();
    for (const key of this.previous.keys()) if (!this.current.has(key)) yield key;
  }

  /** Keys remembered one by one (for tests). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}
