// Estimated V8 heap cost of a decoded value: what `maxBytes` charges for a value kept decoded.
//
// The constants were measured on Node 20 and 22, x64, as shipped (no pointer compression: 8-byte
// words), by holding 2,000-20,000 copies of a value decoded by the structured codec and dividing
// the growth of `heapUsed` after full collections (the calibration is repeated as a test,
// `test/package/heap-accounting.spec.ts`, on realistic values). The shapes are the ones V8's
// deserializer makes: a plain object has 4 in-object property slots and an out-of-object property
// array that grows 3 slots at a time; an array's elements are sized exactly; a number that is not
// a 31-bit integer is a separate 16-byte HeapNumber; a Map or Set is an ordered hash table whose
// capacity is a power of two (at least 4). Values decoded otherwise (JSON) are shaped a little
// differently; the estimate stays within the tolerance the test checks.

import { isArrayIndex, namedArrayKeys } from './array-keys';
import { POOLED_STRING_MAX_LENGTH } from './string-pool';

const OBJECT_BYTES = 56; // map, properties, elements + 4 in-object slots
const IN_OBJECT_SLOTS = 4;
const PROPERTY_ARRAY_HEADER = 16;
const PROPERTY_ARRAY_STEP = 3;
const ARRAY_BYTES = 32; // map, properties, elements, length
const ELEMENTS_HEADER = 16;
const WORD = 8;
const HEAP_NUMBER_BYTES = 16;
const STRING_HEADER = 16;
const DATE_BYTES = 112;
const HASH_TABLE_BYTES = 72; // the JSMap/JSSet and its table's header
const MAP_SLOT_BYTES = 28; // 3 words per entry + half a bucket word, per unit of capacity
const SET_SLOT_BYTES = 20;
const MIN_TABLE_CAPACITY = 4;
/**
 * Named properties past which V8 holds an object's properties in a hash table (dictionary mode,
 * its descriptor limit), at 3 words per slot of a power-of-two table at most two-thirds full; an
 * object keyed by ids does the same with its elements as soon as they are sparse. Measured
 * (2026-12-06, shaped form, V8's format and JSON alike): 5,000 named keys ~195 KB, not the 40 KB
 * 8 B a property would say; 50 ids from 100000 ~3.1 KB, not 456 B.
 */
const MAX_FAST_PROPERTIES = 1020;
const DICTIONARY_HEADER = 48;
const DICTIONARY_SLOT_BYTES = 24;
/** Elements stay a flat array while the largest index is within this gap of 3 per element (V8's kMaxGap). */
const MAX_ELEMENTS_GAP = 1024;
/** A typed array or Buffer: the view and its ArrayBuffer; the contents are external memory. */
const VIEW_BYTES = 96;
const REGEXP_BYTES = 80;
const SMI_MIN = -(2 ** 31);
const SMI_MAX = 2 ** 31 - 1;
const TWO_BYTE = /[\u0100-\uffff]/;

/** Shares equal short strings between values; see {@link compactAndMeasure}. */
export interface StringSharer {
  /** The shared string equal to `text`, or undefined when `text` is now the one kept. */
  share(text: string): string | undefined;
}

/**
 * Estimated bytes a decoded value holds on the V8 heap and in ArrayBuffers (typed array contents),
 * not counting strings and objects shared with other values (property names are interned).
 */
export function estimateHeapBytes(value: unknown): number {
  return size(value, undefined, undefined);
}

/**
 * Like {@link estimateHeapBytes}, and replaces short strings held in the value's objects, arrays
 * and Map values by equal ones `pool` already holds (Set members and Map keys stay: replacing them
 * would reorder the collection). A string so shared is not charged: other values hold it too.
 * The value must be one the caller owns and has not frozen yet (a freshly decoded one).
 */
export function compactAndMeasure(value: unknown, pool: StringSharer): number {
  return size(value, undefined, pool);
}

/**
 * The same count as {@link compactAndMeasure}, kept by a decoder as it builds a value (the shaped
 * form's kept decode), so that a value it builds read-only needs no walk afterwards: the decoder
 * reports each node it makes, in the order the walk would visit them (the pool's slots depend on
 * it), and takes the string {@link string} returns.
 */
export class HeapTally {
  /** The bytes counted so far. */
  bytes = 0;

  constructor(private readonly pool: StringSharer) {}

  /** A string held in an object, an array or a Map value: the pooled equal one, or itself, charged. */
  string(text: string): string {
    const copy = pooled(text, this.pool);
    if (copy !== undefined) return copy;
    this.bytes += stringBytes(text);
    return text;
  }

  /** A string that is the whole value: not pooled (the walk cannot rewrite it either). */
  rootString(text: string): void {
    this.bytes += stringBytes(text);
  }

  number(value: number): void {
    this.bytes += numberBytes(value);
  }

  /** An object with these own keys, its values aside (`objectKeysBytes`, which the reader keeps per shape). */
  object(bytes: number): void {
    this.bytes += bytes;
  }

  array(length: number): void {
    this.bytes += arrayBytes(length);
  }

  date(): void {
    this.bytes += DATE_BYTES;
  }
}

/** The bytes of a string held at a place the walk may rewrite, after sharing it when it can. */
function shared(text: string, pool: StringSharer | undefined, put: (copy: string) => void): number {
  const copy = pool === undefined ? undefined : pooled(text, pool);
  if (copy === undefined) return stringBytes(text);
  put(copy); // equal content; what matters is that the value now holds the pooled string
  return 0;
}

/** The pooled string equal to `text`, when `text` is short enough to pool and one is pooled. */
function pooled(text: string, pool: StringSharer): string | undefined {
  return text.length >= 2 && text.length <= POOLED_STRING_MAX_LENGTH ? pool.share(text) : undefined;
}

function size(value: unknown, seen: Set<object> | undefined, pool: StringSharer | undefined): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return numberBytes(value);
    case 'bigint':
      return STRING_HEADER + WORD * Math.ceil(bitLength(value) / 64);
    case 'object':
      if (value === null) return 0;
      break;
    default:
      // booleans, undefined and symbols are shared singletons; functions are not cacheable values
      return 0;
  }
  // Shared sub-values are held once; cycles end here.
  const visited = seen ?? new Set<object>();
  if (visited.has(value)) return 0;
  visited.add(value);
  if (ArrayBuffer.isView(value)) return VIEW_BYTES + value.byteLength;
  if (value instanceof ArrayBuffer) return VIEW_BYTES + value.byteLength;
  if (Array.isArray(value)) {
    const items = value as unknown[];
    let bytes = arrayBytes(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      bytes +=
        typeof item === 'string'
          ? shared(item, pool, (copy) => (items[i] = copy))
          : size(item, visited, pool);
    }
    // Named properties (V8's format keeps them): an array has no in-object slots, so they live in
    // a property array of their own.
    const named = namedArrayKeys(items);
    if (named === undefined) return bytes;
    bytes +=
      PROPERTY_ARRAY_HEADER + WORD * Math.ceil(named.length / PROPERTY_ARRAY_STEP) * PROPERTY_ARRAY_STEP;
    const record = items as unknown as Record<string, unknown>;
    for (const key of named) {
      const item = record[key];
      bytes +=
        typeof item === 'string' && key !== '__proto__'
          ? shared(item, pool, (copy) => (record[key] = copy))
          : size(item, visited, pool);
    }
    return bytes;
  }
  if (value instanceof Date) return DATE_BYTES;
  if (value instanceof Map) {
    let bytes = HASH_TABLE_BYTES + MAP_SLOT_BYTES * tableCapacity(value.size);
    for (const [k, v] of value) {
      const map = value as Map<unknown, unknown>;
      bytes += size(k, visited, undefined);
      bytes += typeof v === 'string' ? shared(v, pool, (copy) => map.set(k, copy)) : size(v, visited, pool);
    }
    return bytes;
  }
  if (value instanceof Set) {
    let bytes = HASH_TABLE_BYTES + SET_SLOT_BYTES * tableCapacity(value.size);
    for (const v of value) bytes += size(v, visited, undefined);
    return bytes;
  }
  if (value instanceof RegExp) return REGEXP_BYTES + stringBytes(value.source);
  const keys = Object.keys(value);
  let bytes = objectKeysBytes(keys);
  const record = value as Record<string, unknown>;
  for (const key of keys) {
    const item = record[key];
    // An own '__proto__' property (structured clones can have one) cannot be rewritten by assignment.
    const rewritable = typeof item === 'string' && key !== '__proto__';
    bytes += rewritable ? shared(item, pool, (copy) => (record[key] = copy)) : size(item, visited, pool);
  }
  return bytes;
}

/** A number not held as a small integer (a Smi) is a HeapNumber of its own. */
function numberBytes(value: number): number {
  return Number.isInteger(value) && value >= SMI_MIN && value <= SMI_MAX && !Object.is(value, -0)
    ? 0
    : HEAP_NUMBER_BYTES;
}

/**
 * What a plain object with these own keys (in `Object.keys` order) holds, its values aside: its
 * named properties in the object and a property array, or a hash table past
 * {@link MAX_FAST_PROPERTIES}; integer keys, which come first in that order, as elements: a flat
 * array with V8's growth slack, or a hash table once they are sparse.
 */
export function objectKeysBytes(keys: readonly string[]): number {
  const count = keys.length;
  let indices = 0;
  while (indices < count && isArrayIndex(keys[indices] as string)) indices++;
  const named = count - indices;
  let bytes =
    OBJECT_BYTES + (named > MAX_FAST_PROPERTIES ? dictionaryBytes(named) : propertyArrayBytes(named));
  if (indices === 0) return bytes;
  const span = Number(keys[indices - 1]) + 1;
  bytes +=
    span > 3 * indices + MAX_ELEMENTS_GAP
      ? dictionaryBytes(indices)
      : ELEMENTS_HEADER + WORD * (Math.ceil(1.5 * span) + 16);
  return bytes;
}

function dictionaryBytes(entries: number): number {
  let capacity = MIN_TABLE_CAPACITY;
  while (capacity < entries + (entries >> 1)) capacity *= 2;
  return DICTIONARY_HEADER + DICTIONARY_SLOT_BYTES * capacity;
}

function arrayBytes(length: number): number {
  return ARRAY_BYTES + (length === 0 ? 0 : ELEMENTS_HEADER + WORD * length);
}

function stringBytes(text: string): number {
  // One-character strings come from V8's single-character table.
  if (text.length <= 1) return 0;
  const contents = TWO_BYTE.test(text) ? text.length * 2 : text.length;
  return STRING_HEADER + Math.ceil(contents / WORD) * WORD;
}

function propertyArrayBytes(properties: number): number {
  if (properties <= IN_OBJECT_SLOTS) return 0;
  const slots = Math.ceil((properties - IN_OBJECT_SLOTS) / PROPERTY_ARRAY_STEP) * PROPERTY_ARRAY_STEP;
  return PROPERTY_ARRAY_HEADER + WORD * slots;
}

function tableCapacity(entries: number): number {
  let capacity = MIN_TABLE_CAPACITY;
  while (capacity < entries) capacity *= 2;
  return capacity;
}

function bitLength(value: bigint): number {
  return (value < 0n ? -value : value).toString(2).length;
}
