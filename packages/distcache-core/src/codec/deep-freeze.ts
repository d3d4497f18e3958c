const READ_ONLY = (): never => {
  throw new TypeError('distcache: cached values are read-only; copy the value before changing it');
};
const MAP_MUTATORS = ['set', 'delete', 'clear'] as const;
const SET_MUTATORS = ['add', 'delete', 'clear'] as const;
const DATE_MUTATORS = Object.getOwnPropertyNames(Date.prototype).filter((name) => name.startsWith('set'));

function lock(target: object, methods: readonly string[]): void {
  for (const method of methods) {
    Object.defineProperty(target, method, { value: READ_ONLY, enumerable: false });
  }
}

/**
 * Freezes a decoded value in place, all the way down, so that a caller who changes a returned value
 * cannot change what the next caller gets. `Map`, `Set` and `Date` instances get throwing mutator
 * methods (freezing alone would not stop `map.set`). Typed arrays cannot be frozen, so the
 * function reports `false` when it meets one: such values are decoded afresh on every read.
 *
 * @returns true when the whole value is now immutable
 */
export function deepFreeze(value: unknown, seen: Set<object> = new Set()): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (seen.has(value)) return true;
  seen.add(value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  let frozen = true;
  if (value instanceof Map) {
    for (const [k, v] of value) frozen = deepFreeze(k, seen) && deepFreeze(v, seen) && frozen;
    lock(value, MAP_MUTATORS);
  } else if (value instanceof Set) {
    for (const v of value) frozen = deepFreeze(v, seen) && frozen;
    lock(value, SET_MUTATORS);
  } else if (value instanceof Date) {
    lock(value, DATE_MUTATORS);
  } else {
    for (const key of Reflect.ownKeys(value)) {
      frozen = deepFreeze((value as Record<PropertyKey, unknown>)[key], seen) && frozen;
    }
  }
  Object.freeze(value);
  return frozen;
}
