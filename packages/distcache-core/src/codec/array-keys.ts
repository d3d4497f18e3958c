// Arrays with named properties: V8's format keeps them, so every walk over a decoded value must
// visit them (deepFreeze, the heap-size walk).

/**
 * The own enumerable properties of `array` that are not elements, or undefined when it has none
 * (nearly always). Elements come first in `Object.keys` order, named properties after them, so
 * the last key tells.
 */
export function namedArrayKeys(array: readonly unknown[]): string[] | undefined {
  const keys = Object.keys(array);
  const last = keys[keys.length - 1];
  if (last === undefined || isArrayIndex(last)) return undefined;
  return keys.filter((key) => !isArrayIndex(key));
}

/** A canonical array index: "0" to "4294967294" (an integer key of an object is one too). */
export function isArrayIndex(key: string): boolean {
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < 2 ** 32 - 1 && String(n) === key;
}
