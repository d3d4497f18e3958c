import { estimateHeapBytes } from '../codec/heap-size';
import { POOLED_STRING_MAX_LENGTH, sharedStrings } from '../codec/string-pool';
import { itemBytes } from './bookkeeping';

/** Most tags one entry may carry. */
export const MAX_TAGS_PER_ENTRY = 64;
/** Longest tag, in UTF-16 units. */
export const MAX_TAG_CHARS = 256;
/** Default of the keyspace option `maxTagRecords`: tag invalidations remembered per keyspace. */
export const DEFAULT_MAX_TAG_RECORDS = 10_000;

/**
 * The tags an entry carries and when it was stored, in the keyspace's tag sequence. An entry
 * without tags has none: untagged entries cost nothing and are never checked.
 */
export interface TagStamp {
  readonly tags: readonly string[];
  readonly born: number;
}

/** Heap bytes of a stamp: its object (56 B, as `codec/heap-size.ts` counts one) and its tag list. */
export function stampBytes(stamp: TagStamp | undefined): number {
  return stamp === undefined ? 0 : 56 + estimateHeapBytes(stamp.tags);
}

interface TagRecord {
  /** Sequence number of the invalidation: entries born before it with the tag are revoked. */
  readonly seq: number;
  /** Epoch ms after which no entry it can revoke is alive (the latest expiry of a tagged entry then). */
  readonly until: number;
}

/**
 * Tag invalidation by versions checked on read (as bentocache does), so that invalidating a tag
 * is O(number of tags), whatever the number of entries (the choice is measured in bench/tags):
 * `invalidate(tags)` records, per tag, the sequence number it happened at; an entry stored with
 * tags is revoked when one of its tags was invalidated after it was stored. Storage asks
 * {@link revoked} on every read of a tagged entry and drops it; the periodic purge drops the rest.
 *
 * Bounded: a record is forgotten once every tagged entry that existed when it was made has
 * expired; past `maxRecords` the oldest is forgotten at once and `floor` rises to its sequence
 * number, which revokes every tagged entry born before it (more reloads, never a stale read).
 */
export class TagVersions {
  private seq = 0;
  private floor = 0;
  /** Sequence number of the latest invalidation: entries stored since are not checked. */
  private latest = 0;
  /** By tag, oldest invalidation first (a tag invalidated again moves to the end). */
  private readonly records = new Map<string, TagRecord>();
  private latestExpiry = 0;
  /** Heap the records hold (`bookkeeping.ts`). */
  private heldBytes = 0;

  /** @param maxBytes most bytes the records may hold; past it, as past `maxRecords`, the oldest go */
  constructor(
    private maxRecords: number = DEFAULT_MAX_TAG_RECORDS,
    private maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** Heap the records hold, their tag strings included. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** A stamp for an entry carrying `tags` stored now, dropped by the storage at `expiresAt`. */
  stamp(tags: readonly string[], expiresAt: number): TagStamp {
    if (expiresAt > this.latestExpiry) this.latestExpiry = expiresAt;
    this.seq += 1;
    return { tags, born: this.seq };
  }

  /** Revokes every entry stored so far that carries one of `tags`. O(tags). */
  invalidate(tags: readonly string[], now: number): void {
    this.prune(now);
    for (const tag of tags) {
      this.seq += 1;
      if (this.records.delete(tag)) this.heldBytes -= itemBytes('tag', tag);
      this.records.set(tag, { seq: this.seq, until: this.latestExpiry });
      this.heldBytes += itemBytes('tag', tag);
    }
    this.latest = this.seq;
    this.keepToLimits();
  }

  /** True when an entry with this stamp must not be served any more. */
  revoked(stamp: TagStamp): boolean {
    // Stored after the latest invalidation (most entries, once loaded again): nothing to look up.
    if (stamp.born > this.latest) return false;
    if (stamp.born < this.floor) return true;
    if (this.records.size === 0) return false;
    // An index loop: `for...of` over a frozen array takes V8's slow iterator path (measured: 2x the
    // cost of a hit in bench/tags).
    const { tags } = stamp;
    for (let index = 0; index < tags.length; index++) {
      const record = this.records.get(tags[index] as string);
      if (record !== undefined && record.seq > stamp.born) return true;
    }
    return false;
  }

  /** Forgets records that can no longer revoke a live entry. */
  prune(now: number): void {
    // `until` never decreases along the map's order (a running maximum), so the expired ones lead.
    for (const [tag, record] of this.records) {
      if (record.until > now) break;
      this.records.delete(tag);
      this.heldBytes -= itemBytes('tag', tag);
    }
  }

  /** How many invalidations are remembered (stats and tests). */
  get size(): number {
    return this.records.size;
  }

  setLimit(maxRecords: number, maxBytes = this.maxBytes): void {
    this.maxRecords = maxRecords;
    this.maxBytes = maxBytes;
    this.keepToLimits();
  }

  /** Forgets everything (the keyspace was cleared: no entry is left to revoke). */
  clear(): void {
    this.records.clear();
    this.heldBytes = 0;
    this.floor = this.seq + 1;
  }

  private keepToLimits(): void {
    while (this.records.size > this.maxRecords || (this.heldBytes > this.maxBytes && this.records.size > 0))
      this.dropOldest();
  }

  private dropOldest(): void {
    const first = this.records.entries().next();
    if (first.done === true) return;
    const [tag, record] = first.value;
    this.records.delete(tag);
    this.heldBytes -= itemBytes('tag', tag);
    if (record.seq > this.floor) this.floor = record.seq;
  }
}

/**
 * A high surrogate not followed by a low one, or a low one not after a high one (what
 * `String.prototype.isWellFormed` finds; not used here because the dashboard's browser program,
 * which type-checks this file through the server's types, has no ES2024 library).
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The tags of an entry, checked and without duplicates; undefined for none. Returns the reason as a
 * string when they are not acceptable (the caller turns it into its own error).
 */
export function normalizeTags(tags: unknown): readonly string[] | undefined | string {
  try {
    return checkTags(tags);
  } catch {
    // A getter or a proxy trap that throws (tags given on put, returned by the keyspace `tags`
    // function, or passed to deleteByTags): refused like any other bad list, not a bare error.
    return 'tags could not be read (a getter or proxy trap threw)';
  }
}

function checkTags(tags: unknown): readonly string[] | undefined | string {
  if (tags === undefined || tags === null) return undefined;
  if (!Array.isArray(tags)) return 'tags must be an array of strings';
  if (tags.length === 0) return undefined;
  const unique = new Set<string>();
  for (const tag of tags as unknown[]) {
    if (typeof tag !== 'string' || tag.length === 0) return 'every tag must be a non-empty string';
    if (tag.length > MAX_TAG_CHARS) return `a tag is longer than ${MAX_TAG_CHARS} characters`;
    // As for keys: UTF-8 on the wire turns a lone surrogate into U+FFFD, so two tags would become one.
    if (LONE_SURROGATE.test(tag)) return 'every tag must be well-formed UTF-16 (one holds a lone surrogate)';
    // Entries of one tag share its string (less memory, and the read check touches one string).
    unique.add(tag.length <= POOLED_STRING_MAX_LENGTH ? (sharedStrings.share(tag) ?? tag) : tag);
  }
  if (unique.size > MAX_TAGS_PER_ENTRY) return `more than ${MAX_TAGS_PER_ENTRY} tags`;
  return Object.freeze([...unique]);
}
