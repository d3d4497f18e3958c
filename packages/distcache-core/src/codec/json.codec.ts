import { type Codec, detachedCodec, jsonParsedCodec } from './codec';
import { markHashTable } from './heap-size';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The reviver of {@link jsonCodec}'s decode: the value, or undefined to remove a forbidden key. */
function withoutForbiddenKeys(this: object, key: string, value: unknown): unknown {
  if (!FORBIDDEN_KEYS.has(key)) return value;
  // Removing a key other than the last one added makes V8 hold the object in a hash table: the
  // memory count must know (the last one is taken back without that).
  const keys = Object.keys(this);
  if (keys[keys.length - 1] !== key) markHashTable(this);
  return undefined;
}

/**
 * A JSON codec: the portable choice when other programs read the bytes. `Date` becomes a string,
 * `Map`/`Set` become `{}`, `BigInt` throws, exactly as `JSON.stringify` does. Decoding drops the
 * keys `__proto__`, `constructor` and `prototype`, so bytes from elsewhere cannot smuggle a
 * prototype into values that the application later merges.
 */
export function jsonCodec<T = unknown>(): Codec<T> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return detachedCodec(
    jsonParsedCodec<Codec<T>>({
      name: 'json',
      encode: (value) => {
        const text = JSON.stringify(value);
        if (text === undefined) throw new TypeError('value has no JSON representation');
        return encoder.encode(text);
      },
      decode: (bytes) => JSON.parse(decoder.decode(bytes), withoutForbiddenKeys) as T,
    }),
  );
}
