import { CacheEntry } from '../keyspace/cache-entry';
import type { KeySpace } from '../keyspace/keyspace';
import type { ValueResult } from '../transport/transport';

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
): ValueResult {
  const bytes = space.wireBytes(key, entry);
  if (bytes === undefined) {
    return { found: false, expiresAt: entry.freshUntil > now ? entry.freshUntil : 0 };
  }
  return {
    found: true,
    value: bytes,
    expiresAt: Number.isFinite(entry.freshUntil) ? entry.freshUntil : 0,
  };
}

/** An entry from its wire form. */
export function fromValueResult<T>(result: ValueResult): CacheEntry<T> {
  if (!result.found) return new CacheEntry<T>(undefined, result.expiresAt);
  return new CacheEntry<T>(result.value, result.expiresAt === 0 ? Infinity : result.expiresAt);
}
