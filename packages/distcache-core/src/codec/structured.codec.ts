import { DefaultDeserializer, serialize } from 'node:v8';
import { type Codec, detachedCodec } from './codec';

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
 * Chosen over a JSON-with-tags format because it is native (measured ~2-3x faster than
 * JSON.stringify+parse with a reviver on 1 KB objects here) and needs no dependency. Kept over
 * msgpackr and cbor-x with `structuredClone` (issue 18): on the ~1 KB bench product they decode at
 * 0.81-0.94x its speed with 4-6% smaller bytes, and lose -0, array holes and `__proto__` keys; they
 * win only on small records, by 0.25-0.45 µs a decode (bench/README.md, "Alternatives to V8").
 * Peers of one cluster should run the same Node major version: V8 reads older formats but not newer
 * ones, and a value a peer cannot decode is treated as a miss there.
 */
export function structuredCodec<T = unknown>(): Codec<T> {
  return detachedCodec<Codec<T>>({
    name: 'structured',
    encode: (value) => serialize(value),
    decode: (bytes) => {
      const reader = new DetachingDeserializer(bytes);
      reader.readHeader();
      return reader.readValue() as T;
    },
  });
}
