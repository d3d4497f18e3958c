import { DistCacheError } from '../errors/distcache-error';
import { CacheEntry } from '../keyspace/cache-entry';
import type { KeySpace } from '../keyspace/keyspace';
import { normalizeTags } from '../keyspace/tag-versions';
import type { ValueResult, WireBytes } from '../transport/transport';
import { wireInstant } from '../transport/wire-format';

// On the wire, expiry 0 means "never" for a value and "do not remember" for a "not found".

/**
 * The wire form of an entry (its value encoded again when it is held decoded). The expiry sent is the end of freshness: a stale value (served within
 * the owner's grace period) goes out with its past expiry, so the asking node uses it but keeps no
 * hot copy.
 */
export function toValueResult(
  space: KeySpace,
  key: string,
  entry: CacheEntry<unknown>,
  now: number,
  /** The requester reads tags (it set `tagsReply`); an older one would misread them. */
  withTags = false,
): ValueResult<WireBytes> {
  const bytes = space.wireBytes(key, entry);
  if (bytes === undefined) {
    return { found: false, expiresAt: entry.freshUntil > now ? wireInstant(entry.freshUntil) : 0 };
  }
  const expiresAt = Number.isFinite(entry.freshUntil) ? wireInstant(entry.freshUntil) : 0;
  const tags = entry.tags;
  if (withTags && tags !== undefined) return { found: true, value: bytes, expiresAt, tags };
  return { found: true, value: bytes, expiresAt };
}

/**
 * An entry from its wire form.
 * @throws DistCacheError `E_PROTOCOL` when its tags break the limits a SET is held to
 */
export function fromValueResult<T>(result: ValueResult): CacheEntry<T> {
  if (!result.found) return new CacheEntry<T>(undefined, result.expiresAt);
  const entry = new CacheEntry<T>(result.value, result.expiresAt === 0 ? Infinity : result.expiresAt);
  if (result.tags === undefined) return entry;
  // Held to the limits of tags given locally, and sharing their strings (the codec's pool).
  const tags = normalizeTags(result.tags);
  if (typeof tags === 'string') throw new DistCacheError('E_PROTOCOL', `A peer sent a value whose ${tags}`);
  // Not stamped yet: `KeySpace.storeHot` stamps the copy it keeps.
  if (tags !== undefined) entry.setTagged({ tags, born: 0 });
  return entry;
}
