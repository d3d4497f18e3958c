import { canonicalJson } from './canonical-json';

/**
 * The shape of a decorated method that matters to its keys: whether its single parameter is
 * declared `number`. Read once at bootstrap from TypeScript's `design:paramtypes`.
 */
export interface MethodShape {
  readonly numberParameter: boolean;
}

/**
 * Reads the shape of `target[method]` from the decorator metadata TypeScript (or swc) emits when
 * `emitDecoratorMetadata` is on, as it is in every Nest project. Without it, the parameter is
 * treated as "not a number" and numbers are keyed as JSON, which still round-trips.
 */
export function methodShape(target: object, method: string | symbol): MethodShape {
  const types: unknown = Reflect.getMetadata('design:paramtypes', target, method);
  const parameters = Array.isArray(types) ? (types as unknown[]) : undefined;
  return { numberParameter: parameters?.length === 1 && parameters[0] === Number };
}

/**
 * Derives the cache key of a call from its arguments, such that {@link decodeArguments} gives the
 * arguments back exactly. The owner of a key calls the method with the decoded arguments, so the
 * key alone must be enough to repeat the call:
 *
 * - one string argument is the key as it is (`'42'` -> `'42'`), unless it is empty, starts with `[`
 *   (the mark of the JSON form) or the parameter is declared `number`;
 * - one finite number argument of a parameter declared `number` is its decimal text (`42` -> `'42'`);
 * - anything else is the canonical JSON array of the arguments (`['a', 2]` -> `'["a",2]'`), object
 *   keys sorted, trailing `undefined` arguments dropped (an optional parameter left out).
 *
 * @throws TypeError when an argument is not plain JSON (a `Date`, a class instance, `undefined`
 *   before a defined argument...): give the decorator `key` and `args` functions instead. Calls of
 *   decorated methods report it as a `DistCacheError` `E_INVALID_KEY` naming the method.
 */
export function encodeArguments(args: readonly unknown[], shape: MethodShape): string {
  let length = args.length;
  while (length > 0 && args[length - 1] === undefined) length -= 1;
  const used = args.slice(0, length);
  if (used.length === 1) {
    const [only] = used;
    if (typeof only === 'string' && !shape.numberParameter && only.length > 0 && !only.startsWith('[')) {
      return only;
    }
    if (typeof only === 'number' && shape.numberParameter && Number.isFinite(only)) return String(only);
  }
  return canonicalJson(used, 'arguments');
}

/**
 * Rebuilds the arguments of a call from a key made by {@link encodeArguments}. A key starting with
 * `[` is the JSON form (valid JSON starting with `[` is always an array).
 * @throws SyntaxError when a key starting with `[` is not valid JSON (it was not made here)
 */
export function decodeArguments(key: string, shape: MethodShape): unknown[] {
  if (key.startsWith('[')) return JSON.parse(key) as unknown[];
  return shape.numberParameter ? [Number(key)] : [key];
}
