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
 * Freezes a decoded value in place, all the way down, so that a caller who changes a returned value
 * cannot change what the next caller gets. `Map`, `Set` and `Date` instances get a read-only
 * prototype whose mutators throw (freezing alone would not stop `map.set`); `instanceof` and every
 * reader method still work. Typed arrays cannot be frozen, so the function reports `false` when it
 * meets one: such values are decoded afresh on every read.
 *
 * @returns true when the whole value is now immutable
 */
export function deepFreeze(value: unknown): boolean {
  return freeze(value, undefined);
}

function freeze(value: unknown, seen: Set<object> | undefined): boolean {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return true;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  // Parents are frozen after their children, so cycles need this set.
  const visited = seen ?? new Set<object>();
  if (visited.has(value)) return true;
  visited.add(value);
  let frozen = true;
  if (value instanceof Map) {
    for (const [k, v] of value) frozen = freeze(k, visited) && freeze(v, visited) && frozen;
    Object.setPrototypeOf(value, READ_ONLY_MAP);
  } else if (value instanceof Set) {
    for (const v of value) frozen = freeze(v, visited) && frozen;
    Object.setPrototypeOf(value, READ_ONLY_SET);
  } else if (value instanceof Date) {
    Object.setPrototypeOf(value, READ_ONLY_DATE);
  } else {
    for (const key of Reflect.ownKeys(value)) {
      frozen = freeze((value as Record<PropertyKey, unknown>)[key], visited) && frozen;
    }
  }
  Object.freeze(value);
  return frozen;
}
