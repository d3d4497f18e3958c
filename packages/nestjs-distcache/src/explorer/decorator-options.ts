import { invalidDecoratorOption, wrongDecoratorOption } from './bootstrap-errors';

/** A `key`, `args` or `tags` function, as the wiring calls it. */
export type ArgsFunction = (...args: unknown[]) => unknown;

/**
 * The options a decorator recorded, as a record: an object whose fields are all in `known` (when
 * given; `@ReadThrough` leaves its keyspace settings to the core, which knows them).
 * @throws DistCacheError `E_INVALID_OPTION` naming the decorator, the method and the field
 */
export function decoratorOptions(
  where: string,
  value: unknown,
  known?: { readonly decorator: string; readonly fields: readonly string[] },
): Record<string, unknown> {
  if (!isOptionsObject(value)) {
    const shape = known === undefined ? 'an object' : `an object { ${known.fields.join(', ')} }`;
    throw wrongDecoratorOption(where, 'options', shape, value);
  }
  const record = value as Record<string, unknown>;
  if (known === undefined) return record;
  for (const field of Object.keys(record)) {
    if (known.fields.includes(field)) continue;
    throw invalidDecoratorOption(
      where,
      field,
      `is not a known ${known.decorator} option (it takes ${known.fields.join(' and ')})`,
    );
  }
  return record;
}

/**
 * `undefined`, or a function (of the method's arguments, or for `args` of a key).
 * @throws DistCacheError `E_INVALID_OPTION` naming `path`
 */
export function argsFunction(where: string, value: unknown, path: string): ArgsFunction | undefined {
  if (value === undefined || typeof value === 'function') return value as ArgsFunction | undefined;
  const of = path === 'args' ? 'of the key' : "of the method's arguments";
  throw wrongDecoratorOption(where, path, `a function ${of}`, value);
}

/** An object that can hold options: not null, not an array. */
export function isOptionsObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
