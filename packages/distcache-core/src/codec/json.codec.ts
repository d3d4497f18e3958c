import { type Codec, detachedCodec, jsonParsedCodec } from './codec';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

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
      decode: (bytes) =>
        JSON.parse(decoder.decode(bytes), (key, value: unknown) =>
          FORBIDDEN_KEYS.has(key) ? undefined : value,
        ) as T,
    }),
  );
}
