import { types } from 'node:util';
import { namedArrayKeys } from './array-keys';

const READ_ONLY = (): never => {
  throw new TypeError('distcache: cached values are read-only; copy the value before changing it');
};

/**
 * A read-only variant of a built-in's prototype: inherits everything, but its mutators throw.
 * Swapping an instance's prototype is one operation, where defining 16 own properties on every
 * Date cost most of a remote get (bench/README.md, "Remote hit").
 */
function readOnlyPrototype(proto: object, mutators: readonly string[]): object {
  const readOnly: object = Object.create(proto) as object;
  for (const method of mutators) Object.defineProperty(readOnly, method, { value: READ_ONLY });
  return Object.freeze(readOnly);
}

const READ_ONLY_MAP = readOnlyPrototype(Map.prototype, ['set', 'delete', 'clear']);
const READ_ONLY_SET = readOnlyPrototype(Set.prototype, ['add', 'delete', 'clear']);
const READ_ONLY_DATE = readOnlyPrototype(
  Date.prototype,
  Object.getOwnPropertyNames(Date.prototype).filter((name) => name.startsWith('set')),
);

/**
 * True for the prototype {@link deepFreeze} gives a Date: a frozen Date is still a Date to every
 * reader, and to the default codec's shaped form (a held value is encoded again for peers).
 */
export function isReadOnlyDatePrototype(proto: unknown): boolean {
  return proto === READ_ONLY_DATE;
}

/** A new Date, read-only as {@link deepFreeze} would leave it (for a decoder that builds frozen). */
export function readOnlyDate(date: Date): Date {
  Object.setPrototypeOf(date, READ_ONLY_DATE);
  return Object.freeze(date);
}

/**
 * Freezes a decoded value in place, all the way down, so that a caller who changes a returned value
 * cannot change what the next caller gets. `Map`, `Set` and `Date` instances get a read-only
 * prototype whose mutators throw (freezing alone would not stop `map.set`); `instanceof` and every
 * reader method still work. Typed arrays cannot be frozen, so the function reports `false` when it
 * meets one: such values are decoded afresh on every read.
 *
 * @returns true when the whole value is now immutable
 */
export function deepFreeze(value: unknown): boolean {
  return freeze(value);
}

// Each object is frozen *before* its children are visited, so a cycle ends at an object that is
// already frozen, with no set of visited objects to allocate (measured: the set and
// `Reflect.ownKeys` were a third of the freezing cost of a ~1 KB product, bench/README.md "Remote
// hit"). A decoded value has no frozen parts of its own; own enumerable string keys are all a
// codec's decode produces (structured clone and JSON drop symbols and non-enumerables).
//
// Plain objects and arrays, nearly every node of a decoded value, are recognised by their
// prototype before any `instanceof` test, their keys are walked with `for...in` (no `Object.keys`
// array per object) and primitives are skipped without a call: ~0.8 -> ~0.7 µs for a ~1 KB
// product and no garbage (bench/README.md, "Remote hit", 2026-12-02).
function freeze(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype) {
    if (Object.isFrozen(value)) return true;
    Object.freeze(value);
    const record = value as Record<string, unknown>;
    let frozen = true;
    for (const key in record) {
      // `for...in` also lists inherited enumerable keys (a polluted Object.prototype): own only.
      if (!Object.hasOwn(record, key)) continue;
      const child = record[key];
      if (typeof child === 'object' && child !== null) frozen = freeze(child) && frozen;
    }
    return frozen;
  }
  if (proto === Array.prototype) {
    if (Object.isFrozen(value)) return true;
    Object.freeze(value);
    return freezeItems(value as unknown[]);
  }
  return freezeOther(value);
}

/** Freezes what a frozen array holds: its elements, and its named properties (V8's format keeps them). */
function freezeItems(array: unknown[]): boolean {
  let frozen = true;
  for (let index = 0; index < array.length; index++) {
    const child = array[index];
    if (typeof child === 'object' && child !== null) frozen = freeze(child) && frozen;
  }
  const named = namedArrayKeys(array);
  if (named !== undefined) {
    const record = array as unknown as Record<string, unknown>;
    for (const key of named) frozen = freeze(record[key]) && frozen;
  }
  return frozen;
}

/** Everything but plain objects and arrays: built-ins with state, and other prototypes. */
function freezeOther(value: object): boolean {
  if (Object.isFrozen(value)) return true;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  let frozen = true;
  if (Array.isArray(value)) {
    Object.freeze(value);
    frozen = freezeItems(value);
  } else if (value instanceof Map) {
    Object.setPrototypeOf(value, READ_ONLY_MAP);
    Object.freeze(value);
    // Both, whatever the key gave: a key that cannot be frozen must not leave its value mutable.
    for (const [k, v] of value) {
      frozen = freeze(k) && frozen;
      frozen = freeze(v) && frozen;
    }
  } else if (value instanceof Set) {
    Object.setPrototypeOf(value, READ_ONLY_SET);
    Object.freeze(value);
    for (const v of value) frozen = freeze(v) && frozen;
  } else if (types.isDate(value)) {
    // A real Date only (not any object on Date.prototype's chain): the codec's shaped form takes a
    // value with this prototype for a Date.
    readOnlyDate(value);
  } else {
    Object.freeze(value);
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) frozen = freeze(record[key]) && frozen;
  }
  return frozen;
}
