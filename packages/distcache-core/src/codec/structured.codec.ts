import { deserialize, serialize } from 'node:v8';
import type { Codec } from './codec';

/**
 * The default codec: V8's structured serialisation (the algorithm behind `structuredClone` and
 * worker messages). It round-trips `Date`, `Buffer` (as `Buffer`), typed arrays, `Map`, `Set`,
 * `BigInt`, `RegExp`, nested objects and arrays, and even cycles. Functions, symbols and class
 * instances with private state are rejected (class instances come back as plain objects).
 *
 * Chosen over a JSON-with-tags format because it is native (measured ~2-3x faster than
 * JSON.stringify+parse with a reviver on 1 KB objects here) and needs no dependency. Peers of one
 * cluster should run the same Node major version: V8 reads older formats but not newer ones, and a
 * value a peer cannot decode is treated as a miss there.
 */
export function structuredCodec<T = unknown>(): Codec<T> {
  return {
    name: 'structured',
    encode: (value) => serialize(value),
    // Node's deserializer makes typed arrays that are views over the input when it can; decoding
    // from a copy keeps callers who write into a returned Buffer away from the stored bytes.
    decode: (bytes) => deserialize(Buffer.from(bytes)) as T,
  };
}
