// Splitting a request's keys into requests that stay under the peers' limits.
import { isDistCacheError } from '../errors/distcache-error';

/**
 * `items` in parts of at most `maxKeys` items and `maxBytes` bytes of keys (one item at least, each
 * key counted by {@link requestKeyBytes}), in order: one request each (a GET_MANY of an owner's
 * reads, a DELETE_MANY of a `deleteMany`, an INVALIDATE of a large write). 30,000 keys of ~1 KB in
 * one DELETE_MANY were over the 8 MiB frame limit, and the whole `deleteMany` failed with `E_PROTOCOL`.
 */
export function keyParts<E = string>(
  items: E[],
  maxKeys: number,
  maxBytes: number,
  keyOf?: (item: E) => string,
): E[][];
export function keyParts<E>(
  items: readonly E[],
  maxKeys: number,
  maxBytes: number,
  keyOf: (item: E) => string,
): Array<readonly E[]>;
export function keyParts<E>(
  items: readonly E[],
  maxKeys: number,
  maxBytes: number,
  keyOf: (item: E) => string = (item) => item as unknown as string,
): Array<readonly E[]> {
  const result: Array<readonly E[]> = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < items.length; i++) {
    const size = requestKeyBytes(keyOf(items[i] as E));
    if (i > start && (i - start >= maxKeys || bytes + size > maxBytes)) {
      result.push(items.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  // Within the limits (every get, most batches): the items themselves, no copy.
  result.push(start === 0 ? items : items.slice(start));
  return result;
}

/** A key's bytes in a request, at most: its str32 length and 3 UTF-8 bytes per UTF-16 unit. */
function requestKeyBytes(key: string): number {
  return 4 + 3 * key.length;
}

/**
 * Bytes of a request's frame that are not its keys (header, keyspace name, flags, meta such as a
 * trace context), kept free under `maxFrameBytes`.
 */
const REQUEST_HEAD_BYTES = 4 * 1024;

/**
 * Most bytes of keys (counted by {@link requestKeyBytes}) in one request of keys: the cluster's
 * `maxBatchKeyBytes`, within this node's `maxFrameBytes`.
 */
export function requestKeyBudget(maxBatchKeyBytes: number, maxFrameBytes: number): number {
  return Math.min(maxBatchKeyBytes, maxFrameBytes - REQUEST_HEAD_BYTES);
}

/**
 * A request the transport did not send: over the limit of frames the peer accepts (it announced a
 * smaller `maxFrameBytes` than the one requests were sized by). It goes again in halves.
 */
export function isFrameTooLarge(error: unknown): boolean {
  return isDistCacheError(error, 'E_PROTOCOL') && error.details['reason'] === 'frame-too-large';
}
