import { type Codec, detachedCodec } from './codec';

/**
 * Stores bytes as they are: values are `Uint8Array` (a `Buffer` is one). Reads return a fresh
 * `Buffer` copy, so callers may write into it.
 */
export function rawCodec(): Codec<Uint8Array> {
  return detachedCodec<Codec<Uint8Array>>({
    name: 'raw',
    encode: (value) => {
      if (!(value instanceof Uint8Array))
        throw new TypeError('the raw codec stores Uint8Array/Buffer values only');
      return value;
    },
    decode: (bytes) => Buffer.from(bytes),
  });
}
