/**
 * Codecs whose encoding never takes fewer bytes than the strings and byte arrays of the value: a
 * UTF-16 code unit of a string costs at least one byte (V8 serialisation writes one byte per
 * Latin-1 character and two otherwise; JSON writes UTF-8), a byte array at least its bytes. A
 * custom codec may compress, so no bound is assumed for any other name.
 */
const BOUNDED_CODECS = new Set(['structured', 'json', 'raw']);

/** Values looked at before giving up: the bound must stay far cheaper than encoding. */
const MAX_VISITS = 4096;

/**
 * A cheap lower bound of the bytes `codec` will encode `value` into, so that a value over the limit
 * is refused before it is serialised (a 50 MB string would otherwise cost its encoding, ~+100 MiB
 * and tens of milliseconds, before being refused). It counts strings, Buffers, typed arrays and
 * ArrayBuffers, inside arrays and plain objects, looks at no more than 4096 values and stops as soon
 * as it passes `stopAbove`. It is 0 when nothing can be said (custom codecs, other values).
 *
 * @param codecName the keyspace codec's `name`
 * @param stopAbove the limit checked; counting stops once the bound is over it
 */
export function encodedSizeAtLeast(codecName: string, value: unknown, stopAbove: number): number {
  if (!BOUNDED_CODECS.has(codecName)) return 0;
  // JSON encodes what toJSON returns, and a typed array as an object of its elements.
  const json = codecName === 'json';
  let total = 0;
  let visits = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && visits < MAX_VISITS && total <= stopAbove) {
    const item = stack.pop();
    visits++;
    if (typeof item === 'string') {
      total += item.length;
    } else if (typeof item !== 'object' || item === null) {
      continue;
    } else if (ArrayBuffer.isView(item) || item instanceof ArrayBuffer) {
      if (!json) total += item.byteLength;
    } else if (json && typeof (item as { toJSON?: unknown }).toJSON === 'function') {
      continue;
    } else if (Array.isArray(item)) {
      for (let i = 0; i < item.length && stack.length < MAX_VISITS; i++) stack.push(item[i]);
    } else if (isPlainObject(item)) {
      for (const key in item) {
        if (stack.length >= MAX_VISITS) break;
        if (Object.hasOwn(item, key)) stack.push((item as Record<string, unknown>)[key]);
      }
    }
  }
  return total;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
