// Estimated V8 heap cost of a decoded value: what `maxBytes` charges for a value kept decoded.
//
// The constants were measured on Node 20 and 22, x64, as shipped (no pointer compression: 8-byte
// words), by holding 2,000-20,000 copies of a value decoded by the structured codec and dividing
// the growth of `heapUsed` after full collections (the calibration is repeated as a test,
// `test/package/heap-accounting.spec.ts`, on realistic values). The shapes are the ones V8's
// deserializer makes: a plain object has 4 in-object property slots and an out-of-object property
// array that grows 3 slots at a time; an array's elements are sized exactly; a number that is not
// a 31-bit integer is a separate 16-byte HeapNumber; a Map or Set is an ordered hash table whose
// capacity is a power of two (at least 4). Values decoded otherwise are shaped a little
// differently (JSON.parse: hash tables from 128 named keys, and where the JSON codec removed a key;
// the shaped form's key-by-key builder: from 17), which the count is told (`maxFastProperties`,
// `markHashTable`, `ASSIGNED_MAX_FAST_PROPERTIES`); the estimate stays within the tolerance the
// test checks.

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
/**
 * The same limit for objects `JSON.parse` makes: from 128 named keys on it builds a hash table
 * (Node 20, `%HasFastProperties` in fresh processes, whatever the process built before). A record
 * of 200 fields decoded by the JSON codec held 12,750 B where 1,984 were counted as a fast object.
 */
export const JSON_MAX_FAST_PROPERTIES = 127;
/**
 * The same limit for objects built by assigning their keys one by one, as the shaped form builds a
 * shape's objects on the first read of its list and those of shapes it does not compile: past it,
 * that builder makes a hash table from the start. V8 itself turns an object so built into one past
 * ~19 keys unless the process built an object of those keys before, which the count cannot know;
 * see `keyByKey` in shaped-form.ts.
 */
export const ASSIGNED_MAX_FAST_PROPERTIES = 16;
const DICTIONARY_HEADER = 48;
const DICTIONARY_SLOT_BYTES = 24;
/** An element this far past the flat array's end makes the elements a hash table (V8's kMaxGap). */
const MAX_ELEMENTS_GAP = 1024;
/** Flat elements of a young object grow unchecked up to this many slots (V8's kMaxUncheckedFastElementsLength). */
const MAX_UNCHECKED_ELEMENTS = 5000;
/** A hidden class (V8's Map) and its descriptor, made for each key an object of a new shape adds. */
const HIDDEN_CLASS_BYTES = 80;
/** A typed array or Buffer: the view and its ArrayBuffer; the contents are external memory. */
const VIEW_BYTES = 96;
/** A RegExp and its data array; the pattern is held twice (its source and the compiled data's copy). */
const REGEXP_BYTES = 144;
const SMI_MIN = -(2 ** 31);
const SMI_MAX = 2 ** 31 - 1;
const TWO_BYTE = /[\u0100-\uffff]/;

/** Objects a decoder made hash tables of, which the walk could not tell (see {@link markHashTable}). */
const hashTables = new WeakSet<object>();
let anyHashTable = false;
/** A limit of named keys that every object passes: counted as a hash table. */
const ALWAYS_HASH_TABLE = -1;

/**
 * Tells the walk that a decoder made `object` a hash table (dictionary mode) however few its keys:
 * the JSON codec's reviver removing a key that was not the object's last, which makes V8 hold the
 * object so (an object of 30 keys with a `constructor` key held 2,015 B where 616 were counted).
 */
export function markHashTable(object: object): void {
  hashTables.add(object);
  anyHashTable = true;
}

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
  return size(value, undefined, undefined, MAX_FAST_PROPERTIES);
}

/**
 * Like {@link estimateHeapBytes}, and replaces short strings held in the value's objects, arrays
 * and Map values by equal ones `pool` already holds (Set members and Map keys stay: replacing them
 * would reorder the collection). A string so shared is not charged: other values hold it too.
 * The value must be one the caller owns and has not frozen yet (a freshly decoded one).
 * `maxFastProperties`: the named keys past which its decoder made an object a hash table
 * ({@link JSON_MAX_FAST_PROPERTIES} for `JSON.parse`; V8's deserializer's by default).
 */
export function compactAndMeasure(
  value: unknown,
  pool: StringSharer,
  maxFastProperties = MAX_FAST_PROPERTIES,
): number {
  return size(value, undefined, pool, maxFastProperties);
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
  /**
   * Of those, what the heap-size walk of the same value would not count: key sets new to this
   * process ({@link newKeys}), and objects built in a hash table where the walk takes the fast
   * layout ({@link object}).
   */
  unwalkedBytes = 0;

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

  /**
   * The key sets of a shape list this process reads for the first time: V8 makes a hidden class
   * per key added (~80 B) and keeps each key string, which objects of a known shape share. A value
   * whose keys are its own data (ids, e-mails, UUIDs as keys: a new list each time) pays this on
   * every read; a recurring shape only on its first. Measured: 20 keys like "user-12-3" held
   * ~1,940 B where 544 were counted; 100 UUID keys ~18 KB where 1,168 were.
   */
  newKeys(shapes: ReadonlyArray<readonly string[]>): void {
    let bytes = 0;
    for (const keys of shapes) {
      // Built in a hash table (a key set is new on a list's first read, built key by key): its
      // keys, no hidden classes.
      const perKey = keys.length - integerKeys(keys) > ASSIGNED_MAX_FAST_PROPERTIES ? 0 : HIDDEN_CLASS_BYTES;
      // Integer keys are elements: no hidden class, no key string.
      for (const key of keys) if (!isArrayIndex(key)) bytes += perKey + stringBytes(key);
    }
    this.unwalkedBytes += bytes;
    this.bytes += bytes;
  }

  /**
   * An object, its values aside: `bytes` as its builder laid it out (`objectKeysBytes`, which the
   * reader keeps per shape), of which `unwalked` the walk would not count.
   */
  object(bytes: number, unwalked: number): void {
    this.bytes += bytes;
    this.unwalkedBytes += unwalked;
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
  const length = text.length;
  // A one-character string below U+0100 is V8's own single copy already.
  const worth =
    length >= 2 ? length <= POOLED_STRING_MAX_LENGTH : length === 1 && text.charCodeAt(0) >= 0x100;
  return worth ? pool.share(text) : undefined;
}

function size(
  value: unknown,
  seen: Set<object> | undefined,
  pool: StringSharer | undefined,
  maxFast: number,
): number {
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
          : size(item, visited, pool, maxFast);
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
          : size(item, visited, pool, maxFast);
    }
    return bytes;
  }
  if (value instanceof Date) return DATE_BYTES;
  if (value instanceof Map) {
    let bytes = HASH_TABLE_BYTES + MAP_SLOT_BYTES * tableCapacity(value.size);
    for (const [k, v] of value) {
      const map = value as Map<unknown, unknown>;
      bytes += size(k, visited, undefined, maxFast);
      bytes +=
        typeof v === 'string' ? shared(v, pool, (copy) => map.set(k, copy)) : size(v, visited, pool, maxFast);
    }
    return bytes;
  }
  if (value instanceof Set) {
    let bytes = HASH_TABLE_BYTES + SET_SLOT_BYTES * tableCapacity(value.size);
    for (const v of value) bytes += size(v, visited, undefined, maxFast);
    return bytes;
  }
  if (value instanceof RegExp) return REGEXP_BYTES + 2 * stringBytes(value.source);
  const keys = Object.keys(value);
  // A value about to be held (the walk that pools its strings) gets its sparse ids in a hash table.
  if (pool !== undefined && sparseElements(keys)) compactElements(value);
  let bytes = objectKeysBytes(keys, anyHashTable && hashTables.has(value) ? ALWAYS_HASH_TABLE : maxFast);
  const record = value as Record<string, unknown>;
  for (const key of keys) {
    const item = record[key];
    // An own '__proto__' property (structured clones can have one) cannot be rewritten by assignment.
    const rewritable = typeof item === 'string' && key !== '__proto__';
    bytes += rewritable
      ? shared(item, pool, (copy) => (record[key] = copy))
      : size(item, visited, pool, maxFast);
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
 * What a plain object with these own keys (in `Object.keys` order) holds, its values aside, once
 * {@link compactElements} has run on it: its named properties in the object and a property array,
 * or a hash table past `maxFastProperties` named keys (its decoder's limit: {@link MAX_FAST_PROPERTIES}
 * for V8's deserializer, {@link JSON_MAX_FAST_PROPERTIES}, {@link ASSIGNED_MAX_FAST_PROPERTIES});
 * integer keys, which come first in that order,
 * as elements: a flat array with V8's growth slack, or a hash table.
 */
export function objectKeysBytes(keys: readonly string[], maxFastProperties = MAX_FAST_PROPERTIES): number {
  const indices = integerKeys(keys);
  const named = keys.length - indices;
  // A hash-table object, once frozen, has a hidden class of its own (objects of one shape in the
  // fast layout share theirs).
  const bytes =
    OBJECT_BYTES +
    (named > maxFastProperties ? dictionaryBytes(named) + HIDDEN_CLASS_BYTES : propertyArrayBytes(named));
  if (indices === 0) return bytes;
  const flat = flatElementsBytes(keys, indices);
  if (flat === undefined) return bytes + dictionaryBytes(indices);
  // Compacted: the table was grown for one element more (the far one, then removed).
  return bytes + (sparse(flat, indices) ? dictionaryBytes(indices + 1) : flat);
}

/**
 * True when an object with these own keys holds its integer keys (ids) in a flat array much larger
 * than a hash table of them, as V8 lays them out when they are added in ascending order (its
 * deserializer, the shaped form's builder): a cart of three product ids up to 2,500 holds ~25 KB.
 * {@link compactElements} turns such elements into a hash table (~300 B for that cart).
 */
export function sparseElements(keys: readonly string[]): boolean {
  const indices = integerKeys(keys);
  if (indices === 0) return false;
  const flat = flatElementsBytes(keys, indices);
  return flat !== undefined && sparse(flat, indices);
}

/**
 * Makes V8 hold `object`'s elements in a hash table (an element far past the flat array's end, then
 * removed): for an object {@link sparseElements} says so of, before it is frozen. The keys, their
 * order and the values are unchanged.
 */
export function compactElements(object: object): void {
  // Defined, not assigned: a setter a program put on Object.prototype at that index does not run.
  // A value a custom codec froze already is left as it is.
  if (!Object.isExtensible(object)) return;
  Object.defineProperty(object, FAR_ELEMENT, FAR_PROPERTY);
  delete (object as Record<number, unknown>)[FAR_ELEMENT];
}

const FAR_PROPERTY: PropertyDescriptor = Object.freeze({
  value: undefined,
  writable: true,
  enumerable: true,
  configurable: true,
});

/** An element index far past any flat array: adding it turns the elements into a hash table. */
const FAR_ELEMENT = 2 ** 31;

function sparse(flatBytes: number, indices: number): boolean {
  return flatBytes > 2 * dictionaryBytes(indices + 1);
}

/** How many of `keys` (in `Object.keys` order) are integer keys: they come first. */
export function integerKeys(keys: readonly string[]): number {
  let indices = 0;
  while (indices < keys.length && isArrayIndex(keys[indices] as string)) indices++;
  return indices;
}

/**
 * The flat array V8 makes for the first `indices` of `keys` added in ascending order, or undefined
 * when it turns them into a hash table on its own: at each one it decides whether the array grows
 * (to 1.5x the index + 16) or the elements become a table.
 */
function flatElementsBytes(keys: readonly string[], indices: number): number | undefined {
  let capacity = 0;
  for (let i = 0; i < indices; i++) {
    const index = Number(keys[i]);
    if (index < capacity) continue;
    if (index - capacity >= MAX_ELEMENTS_GAP) return undefined;
    const grown = index + 1 + ((index + 1) >> 1) + 16;
    // Past 5,000 slots, V8 weighs the flat array against 3x a table of the elements so far (3
    // slots an entry).
    if (grown > MAX_UNCHECKED_ELEMENTS && 9 * dictionaryCapacity(i) <= grown) return undefined;
    capacity = grown;
  }
  return ELEMENTS_HEADER + WORD * capacity;
}

function dictionaryBytes(entries: number): number {
  return DICTIONARY_HEADER + DICTIONARY_SLOT_BYTES * dictionaryCapacity(entries);
}

/** The slots of V8's hash table for `entries`: a power of two, at most two-thirds full. */
function dictionaryCapacity(entries: number): number {
  return tableCapacity(entries + (entries >> 1));
}

function arrayBytes(length: number): number {
  return ARRAY_BYTES + (length === 0 ? 0 : ELEMENTS_HEADER + WORD * length);
}

function stringBytes(text: string): number {
  // One-character strings below U+0100 come from V8's single-character table; '€' or '中' is a
  // string of its own.
  if (text.length === 0 || (text.length === 1 && text.charCodeAt(0) < 0x100)) return 0;
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
