/**
 * JSON with object keys sorted at every depth, so `{ a: 1, b: 2 }` and `{ b: 2, a: 1 }` give the
 * same text and therefore the same cache key. Only values that survive a JSON round trip unchanged
 * are accepted (strings, finite numbers, booleans, null, arrays, plain objects): the owner node
 * rebuilds the arguments with `JSON.parse`, and a `Date` or a `Map` would come back as something
 * else and call the method with different arguments than the caller's.
 *
 * @throws TypeError naming the path of the first value that is not plain JSON
 */
export function canonicalJson(value: unknown, path = 'value'): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw notJson(path, String(value));
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (let index = 0; index < value.length; index += 1) {
          items.push(canonicalJson(value[index], `${path}[${index}]`));
        }
        return `[${items.join(',')}]`;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw notJson(path, `an instance of ${describeClass(value)}`);
      }
      const record = value as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const member = record[key];
        // Like JSON.stringify: an absent optional property and an undefined one are the same.
        if (member === undefined) continue;
        members.push(`${JSON.stringify(key)}:${canonicalJson(member, `${path}.${key}`)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw notJson(path, value === undefined ? 'undefined' : `a ${typeof value}`);
  }
}

function describeClass(value: object): string {
  const name = (value.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name.length > 0 ? name : 'a class';
}

function notJson(path: string, what: string): TypeError {
  return new TypeError(`${path} is ${what}, which does not survive a JSON round trip`);
}
