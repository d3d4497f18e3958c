import { types } from 'node:util';
import { isArrayIndex } from './array-keys';
import { isReadOnlyDatePrototype, readOnlyDate } from './deep-freeze';
import {
  ASSIGNED_MAX_FAST_PROPERTIES,
  compactElements,
  type HeapTally,
  integerKeys,
  objectKeysBytes,
  sparseElements,
} from './heap-size';

/**
 * The shaped form of the default codec (see `structured.codec.ts`): a binary form of values made of
 * plain objects, dense arrays, strings, numbers, booleans, null, undefined and Dates, in which each
 * object is written as the index of its key list (its *shape*) followed by its values, and the
 * shapes of a value are listed once at its head. A reader keeps what it built for a shape (found by
 * the shape list's bytes, not by parsing them) and, once a shape comes back, builds its objects with
 * a function compiled for it: an object literal of its keys, which V8 creates at the cost of a
 * constructor call. Any other value (Maps, Sets, BigInts, typed arrays, holes, class instances,
 * shared or cyclic references, ...) keeps V8's format, and values of this form read back as V8's
 * format gives them back. What is a plain object, an array or a Date is told by the prototype (and
 * `Array.isArray`, `types.isDate`): a built-in given another prototype (a Map whose prototype was
 * set to `Object.prototype`, say) is written as that prototype says, as the JSON form did.
 *
 * Why not JSON text (the form before, still read: `json-form.ts`): `JSON.parse` of the ~1 KB bench
 * product costs ~3 µs and its Dates then need a second walk; this form decodes it in ~1.6 µs with
 * its Dates (bench/README.md, "The shaped form"). Why not msgpackr: its records decode as fast only
 * with a structure table shared by every writer and reader (state across processes and restarts);
 * self-described records, the only kind a cache entry can carry, decoded at ~3.4 µs
 * (bench/codec/alternatives.bench.mjs).
 *
 * Layout after the marker byte {@link SHAPED}: a u32 (little-endian) hash of the shape text, a
 * varint length and the shape text (UTF-8 JSON: an array of key arrays), then the value. Readers
 * take the hash as the key of what they built, never as proof: the text is compared byte for byte. A value is
 * a tag byte and what the tag says ({@link Tag}); lengths and shape indices are LEB128 varints of at
 * most 5 bytes, not necessarily minimal.
 */
export const SHAPED = 0x03;

/** Nesting past which a value is left to V8's format; a reader refuses deeper input. */
const MAX_DEPTH = 64;

const enum Tag {
  Null = 0,
  False = 1,
  True = 2,
  Undefined = 3,
  /** 4 bytes, signed little-endian. */
  Int32 = 4,
  /** 8 bytes, IEEE 754 little-endian (every number that is not an int32, -0 included). */
  Float64 = 5,
  /** varint byte length, then bytes under 0x80 (read as Latin-1, one byte a character). */
  Ascii = 6,
  /** varint byte length, then well-formed UTF-8. */
  Utf8 = 7,
  /** varint byte length, then UTF-16LE code units (a string with lone surrogates). */
  Utf16 = 8,
  /** 8 bytes: the time value as a Float64 (NaN for an invalid Date). */
  Date = 9,
  /** varint element count, then the elements. */
  Array = 10,
  /** varint shape index, then one value per key of the shape, in its order. */
  Object = 11,
}

// ---------------------------------------------------------------------------------------------
// Writing

const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
// Taken at load: a program (or a test's fake timers) replacing Date or its methods later changes
// neither what is written nor what is read back.
const NativeDate = Date;
const getTime = (Date.prototype as unknown as { getTime: (this: Date) => number }).getTime;

class Writer {
  bytes = Buffer.allocUnsafe(4096);
  pos = 0;
  /** The shapes of the value being written, in index order. */
  readonly shapes: KnownShape[] = [];
  /** Marks the shapes the value being written uses (see {@link KnownShape.written}). */
  generation = 0;
  seen = new Set<object>();
  /**
   * The shapes of this value by text, made when a shape cannot be told by identity: one the process
   * does not keep (see {@link knownShape}), or any once the registry started over during this
   * value (its shapes listed before then are no longer the registry's).
   */
  byText: Map<string, KnownShape> | undefined;
  /** The registry's {@link registryEpoch} when this value began. */
  epoch = 0;

  reset(): void {
    this.pos = 0;
    this.generation = nextGeneration++;
    this.epoch = registryEpoch;
  }

  /** Drops every reference to the value just written (the writer is kept for the next one). */
  release(): void {
    this.shapes.length = 0;
    this.byText = undefined;
    if (this.seen.size > 0) this.seen = new Set();
  }

  /** The index of `keys`' shape in the value being written (listed on first use). */
  shapeOf(keys: readonly string[]): number {
    let shape = knownShape(keys);
    if (!shape.kept || this.epoch !== registryEpoch) {
      // One entry per distinct shape in the value's list, whether the process keeps it or not, and
      // whether or not it was made before the registry started over.
      if (this.byText === undefined) {
        this.byText = new Map<string, KnownShape>();
        for (const listed of this.shapes) this.byText.set(listed.text, listed);
      }
      const same = this.byText.get(shape.text);
      if (same === undefined) this.byText.set(shape.text, shape);
      else shape = same;
    }
    if (shape.written !== this.generation) {
      shape.written = this.generation;
      shape.index = this.shapes.length;
      this.shapes.push(shape);
      this.byText?.set(shape.text, shape);
    }
    return shape.index;
  }

  ensure(more: number): void {
    if (this.pos + more <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.pos + more));
    this.bytes.copy(grown, 0, 0, this.pos);
    this.bytes = grown;
  }

  varint(n: number): void {
    this.ensure(5);
    const bytes = this.bytes;
    while (n > 0x7f) {
      bytes[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    bytes[this.pos++] = n;
  }

  float64(tag: Tag, n: number): void {
    this.ensure(9);
    this.bytes[this.pos++] = tag;
    float64[0] = n;
    this.bytes.set(float64Bytes, this.pos);
    this.pos += 8;
  }

  string(text: string): void {
    // The length header is sized for the longest UTF-8 the text can take (3 bytes a unit) and
    // padded, so the bytes are written once, in place; a long text is measured instead.
    const most = text.length <= LONG_STRING ? 3 * text.length : 2 * text.length + Buffer.byteLength(text);
    const header = 1 + varintSize(most);
    this.ensure(header + most);
    const start = this.pos;
    let length = utf8Write.call(this.bytes, text, start + header);
    let tag = length === text.length ? Tag.Ascii : Tag.Utf8;
    if (tag === Tag.Utf8 && !isWellFormed(text)) {
      // UTF-8 would turn a lone surrogate into U+FFFD; UTF-16 keeps it.
      tag = Tag.Utf16;
      length = ucs2Write.call(this.bytes, text, start + header);
    }
    this.bytes[start] = tag;
    writePaddedVarint(this.bytes, start + 1, header - 1, length);
    this.pos = start + header + length;
  }

  /** Writes `value`; false when it has no shaped form (nothing written is then used). */
  value(value: unknown, depth: number): boolean {
    switch (typeof value) {
      case 'string':
        this.string(value);
        return true;
      case 'number':
        if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
          this.ensure(5);
          this.bytes[this.pos] = Tag.Int32;
          this.bytes.writeInt32LE(value, this.pos + 1);
          this.pos += 5;
        } else this.float64(Tag.Float64, value);
        return true;
      case 'boolean':
        this.ensure(1);
        this.bytes[this.pos++] = value ? Tag.True : Tag.False;
        return true;
      case 'undefined':
        this.ensure(1);
        this.bytes[this.pos++] = Tag.Undefined;
        return true;
      case 'object':
        if (value === null) {
          this.ensure(1);
          this.bytes[this.pos++] = Tag.Null;
          return true;
        }
        return this.object(value, depth);
      default:
        return false;
    }
  }

  private object(value: object, depth: number): boolean {
    // Shared or cyclic: V8's format keeps the identity, this form would copy.
    if (depth >= MAX_DEPTH || this.seen.has(value)) return false;
    this.seen.add(value);
    const proto: unknown = Object.getPrototypeOf(value);
    const isArray = Array.isArray(value);
    if ((proto === Object.prototype || proto === null) && !isArray) {
      const keys = Object.keys(value);
      // An own "__proto__" key would become the prototype of the object read back.
      if (keys.includes('__proto__')) return false;
      const index = this.shapeOf(keys);
      this.ensure(1);
      this.bytes[this.pos++] = Tag.Object;
      this.varint(index);
      const record = value as Record<string, unknown>;
      for (const key of keys) {
        const item = record[key];
        // Gone since Object.keys (a getter deleted it): V8's format would not list it.
        if (item === undefined && !Object.hasOwn(record, key)) return false;
        if (!this.value(item, depth + 1)) return false;
      }
      return true;
    }
    if (proto === Array.prototype && isArray) {
      const array = value as unknown[];
      const length = array.length;
      // A named property on an array: V8's format keeps it, this form would drop it.
      if (Object.keys(array).length !== length) return false;
      this.ensure(1);
      this.bytes[this.pos++] = Tag.Array;
      this.varint(length);
      for (let index = 0; index < length; index++) {
        const item = array[index];
        // A hole reads back as undefined here; V8's format keeps it a hole.
        if (item === undefined && !(index in array)) return false;
        if (!this.value(item, depth + 1)) return false;
      }
      // Grown or shrunk by a getter of an element: the count written no longer holds.
      return array.length === length;
    }
    // A Date deepFreeze made read-only counts as a Date: an entry held decoded and frozen is
    // encoded again when a peer reads it. Own properties on a Date: left to V8's format.
    if (
      (proto === Date.prototype || isReadOnlyDatePrototype(proto)) &&
      types.isDate(value) &&
      Object.getOwnPropertyNames(value).length === 0
    ) {
      this.float64(Tag.Date, getTime.call(value));
      return true;
    }
    return false;
  }
}

/**
 * A key list met by the writer, with its JSON text. Kept per process so that writing an object
 * finds its shape by comparing its keys (property names are internalised strings: pointer
 * comparisons) instead of writing and hashing their text every time.
 */
interface KnownShape {
  readonly keys: readonly string[];
  readonly text: string;
  /** In the process's registry; false for one made for a single value (see {@link knownShape}). */
  readonly kept: boolean;
  /** The generation of the last value written with it, and its index in that value. */
  written: number;
  index: number;
  /** The shape list of a value with this shape only (most values of plain rows), made once. */
  alone?: ShapeList;
  /**
   * Shape lists of values whose first shape this is, each made once (a row with nested objects:
   * joining and hashing its list cost ~1 µs of every encode); at most {@link MAX_LISTS_PER_SHAPE}.
   */
  lists?: Array<{ readonly shapes: readonly KnownShape[]; readonly list: ShapeList }>;
}

/** A value's shape list as written: its text, the text's UTF-8 length and its hash. */
interface ShapeList {
  readonly text: string;
  readonly bytes: number;
  readonly hash: number;
}

function shapeList(text: string): ShapeList {
  return { text, bytes: Buffer.byteLength(text), hash: hashOf(text) };
}

/** The shape list of a value with no objects. */
const NO_SHAPES = shapeList('[]');

/** Known shapes by their first key (the empty shape under ''), a short list each. */
const knownShapes = new Map<string, KnownShape[]>();
/** Characters of the texts of known shapes, in all: when reached, the registry starts over. */
let knownChars = 0;
const MAX_KNOWN_CHARS = 256 * 1024;
/** Longest shape text kept; longer shapes are made anew for each value. */
const MAX_KNOWN_TEXT = 4096;
const MAX_SHAPES_PER_FIRST_KEY = 16;
const MAX_LISTS_PER_SHAPE = 8;
/** Strings longer than this are measured before they are written (see `Writer.string`). */
const LONG_STRING = 64 * 1024;
let nextGeneration = 1;
/** Counts the times the registry started over (see {@link Writer.shapeOf}). */
let registryEpoch = 0;

/**
 * The known shape of `keys`, kept in the process's registry when there is room: bounded by the
 * characters of its texts, by a text's length, and by the shapes sharing a first key (keys taken
 * from data, ids as keys say, make a new shape per value). A shape not kept is made for this value
 * only, and listed once in it all the same ({@link Writer.shapeOf}).
 */
function knownShape(keys: readonly string[]): KnownShape {
  const first = keys.length === 0 ? '' : (keys[0] as string);
  let candidates = knownShapes.get(first);
  if (candidates !== undefined) {
    for (const shape of candidates) if (sameKeys(shape.keys, keys)) return shape;
  }
  const text = shapeText(keys);
  if (
    text.length > MAX_KNOWN_TEXT ||
    (candidates !== undefined && candidates.length >= MAX_SHAPES_PER_FIRST_KEY)
  )
    return { keys, text, kept: false, written: 0, index: 0 };
  if (knownChars + text.length > MAX_KNOWN_CHARS) {
    knownShapes.clear();
    knownChars = 0;
    registryEpoch++;
    candidates = undefined;
  }
  const shape: KnownShape = { keys, text, kept: true, written: 0, index: 0 };
  if (candidates === undefined) knownShapes.set(first, [shape]);
  else candidates.push(shape);
  knownChars += text.length;
  return shape;
}

/**
 * The JSON text of a key list, written key by key: `JSON.stringify` of the array would call a
 * `toJSON` a program put on `Object.prototype`; of a string it calls nothing.
 */
function shapeText(keys: readonly string[]): string {
  let text = '[';
  for (let index = 0; index < keys.length; index++)
    text += (index === 0 ? '' : ',') + JSON.stringify(keys[index]);
  return `${text}]`;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

function varintSize(n: number): number {
  let size = 1;
  while (n > 0x7f) {
    size++;
    n >>>= 7;
  }
  return size;
}

/** `n` as a varint of exactly `size` bytes (continuation bits on all but the last). */
function writePaddedVarint(bytes: Uint8Array, at: number, size: number, n: number): void {
  for (let index = 0; index < size - 1; index++) {
    bytes[at + index] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  bytes[at + size - 1] = n;
}

type Write = (this: Uint8Array, text: string, offset: number) => number;
/** Buffer's own writers, without `write()`'s argument parsing (~0.1 µs a string). */
const utf8Write = (Buffer.prototype as unknown as { utf8Write: Write }).utf8Write;
const ucs2Write = (Buffer.prototype as unknown as { ucs2Write: Write }).ucs2Write;

const isWellFormed = (String.prototype as unknown as { isWellFormed?: () => boolean }).isWellFormed
  ? (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed()
  : (text: string): boolean => !/[\uD800-\uDFFF]/.test(text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));

/** The writer encodes reuse (one value at a time; a nested encode, from a getter, gets its own). */
let spare: Writer | undefined = new Writer();

/** A hash of the shape text (FNV-1a over its UTF-16 units): the readers' key to what they built. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++)
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

/**
 * The shape list of a value whose shapes are `shapes`, in index order. Lists of kept shapes are
 * kept on their first shape, their text charged to the registry's characters like a shape's.
 */
function listOf(shapes: readonly KnownShape[]): ShapeList {
  if (shapes.length === 0) return NO_SHAPES;
  const first = shapes[0] as KnownShape;
  if (shapes.length === 1) return (first.alone ??= shapeList(`[${first.text}]`));
  const lists = first.lists;
  if (lists !== undefined) {
    for (const known of lists) if (sameShapes(known.shapes, shapes)) return known.list;
  }
  const list = shapeList(`[${shapes.map((shape) => shape.text).join(',')}]`);
  if (
    (lists === undefined || lists.length < MAX_LISTS_PER_SHAPE) &&
    list.text.length <= MAX_KNOWN_TEXT &&
    knownChars + list.text.length <= MAX_KNOWN_CHARS &&
    shapes.every((shape) => shape.kept)
  ) {
    (first.lists ??= []).push({ shapes: shapes.slice(), list });
    knownChars += list.text.length;
  }
  return list;
}

function sameShapes(a: readonly KnownShape[], b: readonly KnownShape[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/**
 * The shaped form of `value`, or undefined when it has none (see the file comment): the caller then
 * uses V8's format.
 */
export function encodeShaped(value: unknown): Buffer | undefined {
  const writer = spare ?? new Writer();
  spare = undefined;
  try {
    writer.reset();
    if (!writer.value(value, 0)) return undefined;
    const list = listOf(writer.shapes);
    const head = 5 + varintSize(list.bytes);
    const out = Buffer.allocUnsafe(head + list.bytes + writer.pos);
    out[0] = SHAPED;
    out.writeUInt32LE(list.hash, 1);
    writePaddedVarint(out, 5, head - 5, list.bytes);
    utf8Write.call(out, list.text, head);
    const at = head + list.bytes;
    writer.bytes.copy(out, at, 0, writer.pos);
    return out;
  } finally {
    // Kept for the next value with no reference to this one's objects (its scratch bytes are
    // overwritten by the next); a writer grown for one large value is not kept.
    writer.release();
    if (writer.bytes.length <= 64 * 1024) spare = writer;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

type Build = (reader: Reader) => object;

interface ObjectSizes {
  readonly built: readonly number[];
  readonly unwalked: readonly number[];
}

/** What a reader built for one shape list: kept per process, found by its hash and its bytes. */
interface Shapes {
  readonly text: Uint8Array;
  readonly keys: ReadonlyArray<readonly string[]>;
  /**
   * Builders of objects, and of frozen ones, each made on the first read that asks for them (a
   * process that reads only frozen makes only frozen ones, and the reverse).
   */
  builds: Build[] | undefined;
  frozenBuilds: Build[] | undefined;
  /**
   * What an object of each shape holds on the heap, its values aside, as the read-only builders
   * lay it out (made for the first kept read, again once they are compiled).
   */
  objectBytes?: ObjectSizes;
  /** Values read with it; its objects are built by compiled functions from the second on. */
  reads: number;
}

/**
 * Bytes charged for the shape lists kept (each its text plus {@link CACHE_ENTRY_BYTES}): some
 * thousands of lists; when reached, the cache starts over.
 */
export const MAX_CACHED_SHAPE_BYTES = 1024 * 1024;
/** Longest shape text kept (bytes); longer ones are parsed on every read. */
export const MAX_CACHED_SHAPE_TEXT = 4096;
/**
 * Most keys of a shape whose objects are built by a compiled function: an object literal of up to
 * 127 properties gives every object it makes one hidden class; from 128 on, V8 makes each object
 * one of its own (Node 20: 200 keys, ~5.7 KB an object).
 */
const MAX_COMPILED_KEYS = 127;
/**
 * Most compiled builders alive (the shape lists a peer can send are bounded by their bytes, not by
 * their number of shapes): past it, objects are built key by key until the cache starts over.
 */
export const MAX_COMPILED_BUILDERS = 2048;
let compiledBuilders = 0;

const shapeCache = new Map<number, Shapes>();
/** What a kept list costs beyond its text (its entry, key arrays, builders), charged with it. */
const CACHE_ENTRY_BYTES = 256;
const EMPTY = new Uint8Array(0);
const NO_BUILDS: readonly Build[] = [];
const NO_SIZES: readonly number[] = [];
let cachedBytes = 0;
/** False once the process refused to compile (`--disallow-code-generation-from-strings`). */
let canCompile = true;

const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (start: number, end: number) => string })
  .latin1Slice;
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: (start: number, end: number) => string })
  .utf8Slice;
const ucs2Slice = (Buffer.prototype as unknown as { ucs2Slice: (start: number, end: number) => string })
  .ucs2Slice;
const bufferCompare = (
  Buffer.prototype as unknown as {
    compare: (this: Uint8Array, target: Uint8Array, targetStart: number, targetEnd: number) => number;
  }
).compare;

class Reader {
  depth = 0;
  /** What an object of each of the value's shapes holds, when {@link tally} counts its objects. */
  shapeBytes: readonly number[] = NO_SIZES;
  /** Of {@link shapeBytes}, what the heap-size walk would not count (`HeapTally.object`). */
  shapeUnwalked: readonly number[] = NO_SIZES;

  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    /** The builders of the value's shapes: set once its shape list is read. */
    public builds: readonly Build[],
    /** Arrays and Dates made read-only as they are built (the builders freeze the objects). */
    private readonly frozen = false,
    /** Counts what the value will hold on the heap as it is built, and pools its short strings. */
    private readonly tally: HeapTally | undefined = undefined,
  ) {}

  varint(): number {
    const bytes = this.bytes;
    const first = bytes[this.pos];
    if (first !== undefined && first < 0x80) {
      this.pos++;
      return first;
    }
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = bytes[this.pos++];
      if (byte === undefined) throw malformed('ends inside a length');
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
    throw malformed('a length over 5 bytes');
  }

  /** End of `length` bytes from here, checked against the input. */
  private span(length: number): number {
    const end = this.pos + length;
    if (end > this.bytes.length) throw malformed('ends inside a value');
    return end;
  }

  value(): unknown {
    const bytes = this.bytes;
    const tag = bytes[this.pos++];
    switch (tag) {
      case Tag.Ascii: {
        const length = this.varint();
        const start = this.pos;
        this.pos = this.span(length);
        const text =
          length <= 8 ? shortAscii(bytes, start, length) : latin1Slice.call(bytes, start, this.pos);
        return this.tally === undefined ? text : this.kept(text);
      }
      case Tag.Int32: {
        const end = this.span(4);
        const at = this.pos;
        this.pos = end;
        return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
      }
      case Tag.Object: {
        const shape = this.varint();
        const build = this.builds[shape];
        if (build === undefined) throw malformed('an object of an unknown shape');
        if (++this.depth > MAX_DEPTH) throw malformed('nested too deep');
        // Counted before its properties, as the heap-size walk visits it.
        this.tally?.object(this.shapeBytes[shape]!, this.shapeUnwalked[shape]!);
        const object = build(this);
        this.depth--;
        return object;
      }
      case Tag.Float64: {
        const number = this.float64();
        this.tally?.number(number);
        return number;
      }
      case Tag.Array: {
        const length = this.varint();
        // Every element takes a byte at least: a count past the input is malformed, not allocated.
        this.span(length);
        if (++this.depth > MAX_DEPTH) throw malformed('nested too deep');
        this.tally?.array(length);
        // Made at its length, not grown by push: growth leaves up to half its slots and 16 more
        // unused (a 1-element array took 188 B, not 56; 5,000 numbers 53 KB, not 40), which the
        // heap-size count, sized as V8's deserializer and JSON.parse make arrays, did not see.
        // Filled in order, every index gets its value: no hole is left.
        const array: unknown[] = new Array(length);
        for (let index = 0; index < length; index++) array[index] = this.value();
        this.depth--;
        return this.frozen ? Object.freeze(array) : array;
      }
      case Tag.Date: {
        this.tally?.date();
        const date = new NativeDate(this.float64());
        return this.frozen ? readOnlyDate(date) : date;
      }
      case Tag.Null:
        return null;
      case Tag.False:
        return false;
      case Tag.True:
        return true;
      case Tag.Undefined:
        return undefined;
      case Tag.Utf8: {
        const length = this.varint();
        const start = this.pos;
        this.pos = this.span(length);
        const text = utf8Slice.call(bytes, start, this.pos);
        return this.tally === undefined ? text : this.kept(text);
      }
      case Tag.Utf16: {
        const length = this.varint();
        if (length % 2 !== 0) throw malformed('UTF-16 of an odd length');
        const start = this.pos;
        this.pos = this.span(length);
        const text = ucs2Slice.call(bytes, start, this.pos);
        return this.tally === undefined ? text : this.kept(text);
      }
      default:
        throw malformed(tag === undefined ? 'ends before a value' : `unknown tag ${tag}`);
    }
  }

  /** A string of a counted value: pooled inside objects and arrays, only counted as the whole value. */
  private kept(text: string): string {
    const tally = this.tally!;
    if (this.depth > 0) return tally.string(text);
    tally.rootString(text);
    return text;
  }

  private float64(): number {
    const bytes = this.bytes;
    const at = this.pos;
    this.pos = this.span(8);
    for (let index = 0; index < 8; index++) float64Bytes[index] = bytes[at + index]!;
    return float64[0]!;
  }
}

const char = String.fromCharCode;

/**
 * A string of up to 8 ASCII bytes, made in JavaScript: a native slice costs ~35 ns a call, most of a
 * short string's read (tags, currencies, ids).
 */
function shortAscii(b: Uint8Array, p: number, length: number): string {
  switch (length) {
    case 0:
      return '';
    case 1:
      return char(b[p]!);
    case 2:
      return char(b[p]!, b[p + 1]!);
    case 3:
      return char(b[p]!, b[p + 1]!, b[p + 2]!);
    case 4:
      return char(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
    case 5:
      return char(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
    case 6:
      return char(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
    case 7:
      return char(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!);
    default:
      return char(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
  }
}

/** Builds objects of `keys` one property at a time (the first read of a shape, or a large one). */
function generic(keys: readonly string[], frozen = false): Build {
  const build = keyByKey(keys);
  // Ids as keys, far apart: held in a hash table rather than the flat array V8 grows up to the
  // largest (~25 KB for a cart of three product ids; heap-size.ts).
  const compact = sparseElements(keys);
  if (!frozen && !compact) return build;
  return (reader) => {
    const object = build(reader);
    if (compact) compactElements(object);
    return frozen ? Object.freeze(object) : object;
  };
}

function keyByKey(keys: readonly string[]): Build {
  const indices = integerKeys(keys);
  // A key Object.prototype also has ("constructor", "toString", ...) is defined, not assigned, as a
  // literal (and JSON.parse) would: an assignment would fail on a frozen Object.prototype, or run
  // a setter a program put there.
  const inherited = keys.some((key) => key in Object.prototype);
  if (keys.length - indices > ASSIGNED_MAX_FAST_PROPERTIES) {
    // Many named keys: a hash table from the start. Assigned one by one to a plain object, they
    // made V8 choose between a hash table (past ~19 keys, in a process where no object of those
    // keys was built before: a peer's first hot copy of a shape) and its fast layout (following
    // the hidden classes an earlier object left, while its root still takes transitions), which
    // the heap-size count could not tell apart: a record of 100 fields held 6,628 B, counted
    // 1,168 (test/support/heap-probe.mjs, 'record100'). Laying the hidden classes first (a
    // template) is no way out: a process that met many key sets (ids, e-mails as keys) has
    // `{}`'s transitions full, and the template's path is not kept. Deleting a property that is
    // not the last one makes an object a hash table, one hidden class shared by all so made
    // (Node 20, `%HasFastProperties`, test/package/object-layout.spec.ts), and no hidden class is
    // made per key (a value of 30 new keys: ~2 µs to build against ~16 µs assigned to `{}`).
    // With a key Object.prototype has, an object without a prototype is filled instead (no
    // setter to run), then given Object.prototype: a hash table too, with a hidden class of its
    // own (V8 keeps no prototype transition for hash tables: its property reads are ~5x slower
    // while it is not frozen, and freezing gives any hash table one of its own). Shapes read
    // again are compiled (fast objects) up to MAX_COMPILED_KEYS.
    if (inherited)
      return (reader) => {
        const object = { __proto__: null } as unknown as Record<string, unknown>;
        for (const key of keys) object[key] = reader.value();
        return Object.setPrototypeOf(object, Object.prototype) as object;
      };
    return (reader) => {
      const object = hashTableObject();
      for (const key of keys) object[key] = reader.value();
      return object;
    };
  }
  if (inherited) {
    return (reader) => {
      const object: Record<string, unknown> = {};
      for (const key of keys)
        Object.defineProperty(object, key, {
          value: reader.value(),
          writable: true,
          enumerable: true,
          configurable: true,
        });
      return object;
    };
  }
  return (reader) => {
    const object: Record<string, unknown> = {};
    for (const key of keys) object[key] = reader.value();
    return object;
  };
}

/** An empty plain object in a hash table (dictionary mode): see keyByKey. */
function hashTableObject(): Record<string, unknown> {
  const object: Record<string, unknown> = { 'distcache:a': 0, 'distcache:b': 0 };
  delete object['distcache:a'];
  delete object['distcache:b'];
  return object;
}

/**
 * Builds objects of `keys` with one object literal (values read in key order: a literal's values
 * are evaluated left to right). Keys are written as JSON string literals, which are JavaScript
 * string literals: no key can end the literal or the function.
 */
function compiled(keys: readonly string[], frozen = false): Build {
  // Integer keys are left to the key-by-key builder, which adds them as V8's deserializer does (a
  // literal lays its elements out by other rules), so that one count fits both (heap-size.ts).
  if (
    !canCompile ||
    keys.length > MAX_COMPILED_KEYS ||
    compiledBuilders >= MAX_COMPILED_BUILDERS ||
    (keys.length > 0 && isArrayIndex(keys[0] as string))
  )
    return generic(keys, frozen);
  compiledBuilders++;
  const body = keys.map((key) => `${JSON.stringify(key)}: r.value()`).join(', ');
  try {
    const literal = frozen ? `Object.freeze({ ${body} })` : `{ ${body} }`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see above: the keys are JSON string literals
    const build = new Function('r', `return ${literal};`) as Build;
    literalBuilds.add(build);
    return build;
  } catch (error) {
    // Code generation disallowed (--disallow-code-generation-from-strings): never again. Anything
    // else (a stack nearly full, say): this shape only.
    if (error instanceof EvalError) canCompile = false;
    return generic(keys, frozen);
  }
}

/** Builders of object literals (fast objects); the others build as {@link keyByKey} says. */
const literalBuilds = new WeakSet<Build>();

/**
 * What an object of each shape holds, its values aside, as `builds` lay it out (a hash table past
 * ASSIGNED_MAX_FAST_PROPERTIES named keys unless a literal builds it), and of that what the
 * heap-size walk, which takes the fast layout, would not count.
 */
function objectSizes(keys: ReadonlyArray<readonly string[]>, builds: readonly Build[]): ObjectSizes {
  const built = keys.map((shape, i) =>
    objectKeysBytes(shape, literalBuilds.has(builds[i]!) ? undefined : ASSIGNED_MAX_FAST_PROPERTIES),
  );
  return { built, unwalked: keys.map((shape, i) => built[i]! - objectKeysBytes(shape)) };
}

function parseShapes(text: string): ReadonlyArray<readonly string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformed('an unreadable shape list');
  }
  if (!Array.isArray(parsed)) throw malformed('a shape list that is not a list');
  for (const keys of parsed as unknown[]) {
    if (!Array.isArray(keys)) throw malformed('a shape that is not a list of keys');
    const seen = new Set<unknown>();
    for (const key of keys as unknown[]) {
      if (typeof key !== 'string' || key === '__proto__' || seen.has(key))
        throw malformed('a shape with a key that is not a distinct string');
      seen.add(key);
    }
  }
  return parsed as Array<readonly string[]>;
}

/** What this process built for the shape list at `start..end` of `bytes`. */
function shapesAt(bytes: Uint8Array, hash: number, start: number, end: number): Shapes {
  const cached = shapeCache.get(hash);
  if (
    cached !== undefined &&
    cached.text.length === end - start &&
    bufferCompare.call(cached.text, bytes, start, end) === 0
  ) {
    // From the second read on, the builders asked for are compiled (see buildsOf).
    if (++cached.reads === 2) {
      cached.builds = undefined;
      cached.frozenBuilds = undefined;
      cached.objectBytes = undefined;
    }
    return cached;
  }
  const keys = parseShapes(utf8Slice.call(bytes, start, end));
  const length = end - start;
  // Another list under the same hash keeps its place (a peer choosing hashes cannot evict a list
  // in use); this one is read without being kept.
  if (cached !== undefined || length > MAX_CACHED_SHAPE_TEXT)
    return {
      text: EMPTY,
      keys,
      builds: undefined,
      frozenBuilds: undefined,
      reads: 1,
    };
  // A copy of its own: a slice of Node's shared 8 KiB pool would keep the whole slab alive.
  const text = Buffer.allocUnsafeSlow(length);
  text.set(bytes.subarray(start, end));
  const shapes: Shapes = { text, keys, builds: undefined, frozenBuilds: undefined, reads: 1 };
  const charge = length + CACHE_ENTRY_BYTES;
  if (cachedBytes + charge > MAX_CACHED_SHAPE_BYTES) {
    shapeCache.clear();
    cachedBytes = 0;
    compiledBuilders = 0;
  }
  shapeCache.set(hash, shapes);
  cachedBytes += charge;
  return shapes;
}

/** Hashes of shape lists too long to keep, read lately: whether one is new to the process. */
const longListsSeen = new Set<number>();
const MAX_LONG_LISTS_SEEN = 4096;

function seenBefore(hash: number): boolean {
  if (longListsSeen.has(hash)) return true;
  if (longListsSeen.size >= MAX_LONG_LISTS_SEEN) longListsSeen.clear();
  longListsSeen.add(hash);
  return false;
}

/**
 * The builders of `shapes` for a read that builds frozen or not, made on first use: key by key on
 * a list's first read, compiled from its second on.
 */
function buildsOf(shapes: Shapes, frozen: boolean): readonly Build[] {
  const make = (): Build[] =>
    shapes.keys.map((keys) => (shapes.reads >= 2 ? compiled(keys, frozen) : generic(keys, frozen)));
  return frozen ? (shapes.frozenBuilds ??= make()) : (shapes.builds ??= make());
}

/**
 * The value of shaped-form bytes (marker included). With `frozen`, every object, array and Date
 * of it is built read-only, as {@link deepFreeze} would leave them (without a walk afterwards).
 * With a `tally` (which implies `frozen`), the value is also measured and its short strings pooled as it is
 * built, as {@link compactAndMeasure} would count and pool them: a value kept decoded needs no walk.
 * @throws TypeError when the bytes are not a well-formed shaped value
 */
export function decodeShaped(bytes: Uint8Array, frozen = false, tally?: HeapTally): unknown {
  if (bytes.length < 6) throw malformed('too short');
  const hash = (bytes[1]! | (bytes[2]! << 8) | (bytes[3]! << 16) | (bytes[4]! << 24)) >>> 0;
  // One reader for the head and the value: no second object per decode.
  const readOnly = frozen || tally !== undefined;
  const reader = new Reader(bytes, 5, NO_BUILDS, readOnly, tally);
  const length = reader.varint();
  const start = reader.pos;
  const end = start + length;
  if (end > bytes.length) throw malformed('ends inside its shape list');
  const shapes = shapesAt(bytes, hash, start, end);
  reader.builds = buildsOf(shapes, readOnly);
  if (tally !== undefined) {
    const sizes = (shapes.objectBytes ??= objectSizes(shapes.keys, reader.builds));
    reader.shapeBytes = sizes.built;
    reader.shapeUnwalked = sizes.unwalked;
    // A key set new to the process: a kept list read for the first time, or one too long to keep
    // whose hash was not met lately.
    if (shapes.text === EMPTY ? !seenBefore(hash) : shapes.reads === 1) tally.newKeys(shapes.keys);
  }
  reader.pos = end;
  const value = reader.value();
  if (reader.pos !== bytes.length) throw malformed('bytes after the value');
  return value;
}

/** Bytes of shape lists kept parsed, and builders compiled for them, now (for tests). */
export function cachedShapeBytes(): number {
  return cachedBytes;
}

export function compiledBuilderCount(): number {
  return compiledBuilders;
}

function malformed(what: string): TypeError {
  return new TypeError(`malformed shaped-form value: ${what}`);
}
