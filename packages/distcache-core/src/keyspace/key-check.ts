import { invalidKey, invalidOption } from '../errors/messages';
import type { ResolvedKeySpaceConfig } from './keyspace.options';

/**
 * Checks one key: a non-empty, well-formed UTF-16 string of at most `maxKeyBytes` UTF-8 bytes. A
 * lone surrogate cannot cross the wire: UTF-8 turns it into U+FFFD, so `'a\uD800'` and
 * `'a\uDC00'` would travel as the same key and read each other's values.
 * @throws DistCacheError `E_INVALID_KEY`
 */
export function checkKey(keySpace: string, key: unknown, maxKeyBytes: number): asserts key is string {
  if (typeof key !== 'string') throw invalidKey(keySpace, `must be a string, got ${typeof key}`);
  if (key.length === 0) throw invalidKey(keySpace, 'must not be empty');
  if (!key.isWellFormed())
    throw invalidKey(keySpace, 'must be well-formed UTF-16 (it holds a lone surrogate)');
  // UTF-8 needs at least one byte per UTF-16 unit and at most three: skip the count when clear.
  if (key.length * 3 <= maxKeyBytes) return;
  const bytes = key.length > maxKeyBytes ? key.length : Buffer.byteLength(key, 'utf8');
  if (bytes > maxKeyBytes)
    throw invalidKey(keySpace, `is ${bytes}+ bytes, over maxKeyBytes (${maxKeyBytes})`);
}

/**
 * Checks every key of a batch before anything is done with any of them.
 * @throws DistCacheError `E_INVALID_KEY`
 */
export function checkKeys(keySpace: string, keys: readonly string[], maxKeyBytes: number): readonly string[] {
  if (!isList(keys)) throw invalidKey(keySpace, 'expected an array of keys');
  for (const key of keys) checkKey(keySpace, key, maxKeyBytes);
  return keys;
}

/** Array check that does not narrow a typed parameter to `any[]`. */
export function isList(value: unknown): boolean {
  return Array.isArray(value);
}

/**
 * Holds a keyspace's static `warmKeys` to the key limit at construction (a function's keys are
 * checked when it is called, in the warm-up).
 * @throws DistCacheError `E_INVALID_OPTION` naming `<path>.warmKeys[i]`
 */
export function checkWarmKeys(config: ResolvedKeySpaceConfig, maxKeyBytes: number, path: string): void {
  const keys = config.warmKeys;
  if (keys === undefined || typeof keys === 'function') return;
  keys.forEach((key, index) => {
    if (Buffer.byteLength(key, 'utf8') > maxKeyBytes)
      throw invalidOption(`${path}.warmKeys[${index}]`, `is over maxKeyBytes (${maxKeyBytes})`);
  });
}
