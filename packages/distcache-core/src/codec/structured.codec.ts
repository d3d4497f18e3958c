import { DefaultDeserializer, serialize } from 'node:v8';
import { type Codec, detachedCodec } from './codec';
import { datePaths, JSON_DATES, JSON_PLAIN, jsonForm, reviveDates } from './json-form';

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
 * A value JSON carries exactly (plain objects, dense arrays, strings, finite numbers, booleans,
 * null, and Dates listed by path: `json-form.ts`) is written as JSON text instead, chosen per
 * value: V8's deserializer keeps what it decoded alive through the next scavenge, which made
 * garbage collection a fifth of a remote read's time (bench/README.md, "Default codec"). Both
 * read back the same value. Bytes in V8's format (first byte 0xFF) decode as before, so values
 * from a node of an earlier version are read; a node of an earlier version cannot read the JSON
 * form and loads such a key itself (a value a peer cannot decode is a miss there).
 *
 * Kept over msgpackr and cbor-x with `structuredClone` (issue 18): on the ~1 KB bench product they
 * decode at 0.81-0.94x V8's speed with 4-6% smaller bytes, and lose -0, array holes and
 * `__proto__` keys (bench/README.md, "Alternatives to V8"). Peers of one cluster should run the
 * same Node major version: V8 reads older formats but not newer ones.
 */
export function structuredCodec<T = unknown>(): Codec<T> {
  return detachedCodec<Codec<T>>({
    name: 'structured',
    encode: (value) => {
      const dates = jsonForm(value);
      if (dates === undefined) return serialize(value);
      const text =
        dates.length === 0 ? JSON.stringify(value) : `${JSON.stringify(dates)}\n${JSON.stringify(value)}`;
      const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(text));
      bytes[0] = dates.length === 0 ? JSON_PLAIN : JSON_DATES;
      bytes.write(text, 1, 'utf8');
      return bytes;
    },
    decode: (bytes) => {
      const marker = bytes[0];
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
  });
}

const NEWLINE = 0x0a;

/** Buffer's UTF-8 decoder, called on any Uint8Array (a view of a peer's read buffer, say). */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: (start: number, end: number) => string })
  .utf8Slice;
