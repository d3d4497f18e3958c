import { DefaultDeserializer, serialize } from 'node:v8';
import { type Codec, detachedCodec, jsonParsedCodec, withReadOnlyDecoders } from './codec';
import { deepFreeze } from './deep-freeze';
import { HeapTally } from './heap-size';
import { datePaths, JSON_DATES, JSON_PLAIN, reviveDates } from './json-form';
import { decodeShaped, encodeShaped, SHAPED } from './shaped-form';

type HostObjectReader = (this: DefaultDeserializer) => ArrayBufferView;
const readHostObject = (DefaultDeserializer.prototype as unknown as { _readHostObject: HostObjectReader })
  ._readHostObject;

/**
 * Node's deserializer returns a Buffer or typed array inside a value as a view over the input
 * bytes when it can. Those bytes are the stored entry, so a caller writing into a decoded Buffer
 * would change what later readers get. This one copies each such view instead: the copy costs only
 * the bytes of the Buffers in the value, where copying the whole input on every decode cost ~0.5 µs
 * per 1 KB read (bench/README.md, "Remote hit").
 */
class DetachingDeserializer extends DefaultDeserializer {
  constructor(private readonly input: Uint8Array) {
    super(input);
  }

  _readHostObject(): ArrayBufferView {
    const view = readHostObject.call(this);
    if (view.buffer !== this.input.buffer) return view;
    if (Buffer.isBuffer(view)) return Buffer.from(view);
    if (view instanceof DataView) {
      return new DataView(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
    }
    return (view as Uint8Array).slice();
  }
}

/**
 * The default codec: V8's structured serialisation (the algorithm behind `structuredClone` and
 * worker messages). It round-trips `Date`, `Buffer` (as `Buffer`), typed arrays, `Map`, `Set`,
 * `BigInt`, `RegExp`, nested objects and arrays, and even cycles. Functions, symbols and class
 * instances with private state are rejected (class instances come back as plain objects).
 *
 * Plain data (plain objects, dense arrays, strings, numbers, booleans, null, undefined and Dates,
 * no shared references) is written in the shaped form instead (`shaped-form.ts`), chosen per value:
 * V8's deserializer keeps what it decoded alive through the next scavenge, which made garbage
 * collection a fifth of a remote read's time (bench/README.md, "Default codec"), and the shaped form
 * decodes the ~1 KB bench product in ~1.6 µs, against ~4.2 µs for the JSON text this codec wrote
 * before (bench/README.md, "The shaped form"). Both forms read back the same value. Bytes in V8's
 * format (first byte 0xFF) and in the JSON form (0x01, 0x02) decode as before, so values from nodes
 * of earlier versions are read; nodes of protocol version 2 cannot read the shaped form, which is
 * why it came with protocol version 3 (docs/protocol.md, "Versioning").
 *
 * V8's format kept over msgpackr and cbor-x with `structuredClone` for the rest (issue 18): on the
 * ~1 KB bench product they decode at 0.81-0.94x V8's speed with 4-6% smaller bytes, and lose -0,
 * array holes and `__proto__` keys (bench/README.md, "Alternatives to V8"). Peers of one cluster should run the
 * same Node major version: V8 reads older formats but not newer ones.
 */
export function structuredCodec<T = unknown>(): Codec<T> {
  // Its JSON form (bytes of earlier versions) is read by JSON.parse: counted as JSON.parse lays it out.
  const codec = jsonParsedCodec(
    detachedCodec<Codec<T>>({
      name: 'structured',
      encode: (value) => encodeShaped(value) ?? serialize(value),
      decode: (bytes) => {
        const marker = bytes[0];
        if (marker === SHAPED) return decodeShaped(bytes) as T;
        if (marker === JSON_PLAIN) return JSON.parse(utf8Slice.call(bytes, 1, bytes.length)) as T;
        if (marker === JSON_DATES) {
          const newline = bytes.indexOf(NEWLINE, 1);
          if (newline < 0) throw new TypeError('a JSON-form value without its Date paths');
          const paths = datePaths(utf8Slice.call(bytes, 1, newline));
          return reviveDates(JSON.parse(utf8Slice.call(bytes, newline + 1, bytes.length)), paths) as T;
        }
        const reader = new DetachingDeserializer(bytes);
        reader.readHeader();
        return reader.readValue() as T;
      },
    }),
    (bytes) => bytes[0] === JSON_PLAIN || bytes[0] === JSON_DATES,
  );
  // The shaped form builds its values read-only (and measured, for a held value); the other forms
  // are decoded, then frozen (and measured) after.
  return withReadOnlyDecoders(codec, {
    transient: (bytes) => {
      if (bytes[0] === SHAPED) return decodeShaped(bytes, true);
      const value = codec.decode(bytes);
      deepFreeze(value);
      return value;
    },
    kept: (bytes, pool) => {
      if (bytes[0] !== SHAPED) return undefined;
      const tally = new HeapTally(pool);
      const value = decodeShaped(bytes, true, tally);
      return { value, heapBytes: tally.bytes, unwalkedBytes: tally.unwalkedBytes };
    },
  });
}

const NEWLINE = 0x0a;

/** Buffer's UTF-8 decoder, called on any Uint8Array (a view of a peer's read buffer, say). */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: (start: number, end: number) => string })
  .utf8Slice;
