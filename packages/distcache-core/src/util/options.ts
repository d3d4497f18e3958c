/**
 * The one place option values are checked. Every `resolve...Options()` of the package builds on
 * these checks (and on the duration checks of ./duration), so a rule and its message are written
 * once: the error is always `E_INVALID_OPTION` with the full field path (`keySpaces[0].ttl`).
 *
 * Why not a schema library (valibot, zod)? We compared, on the option files of issue 18:
 * - Lines: the per-field checks are a few lines either way; what remains is the cross-field rules
 *   (a duration at least twice another, a default that depends on another field, TLS material
 *   that must parse, a value that must leave room in a peer frame), which stay code with a schema
 *   library too, plus the glue that turns its issues into our paths and messages.
 * - Dependency: the core has two runtime dependencies (lru-cache, opossum); a schema library
 *   would be a third on every install, for checks that run once at construction.
 * - Messages: ours name the path and say what is allowed (`must be an integer from 1 to 4096`);
 *   a library's defaults are generic ("Invalid type"), so each check would carry our message
 *   anyway. Unknown fields get a "did you mean" and renamed fields say what they became, which
 *   neither library does out of the box.
 * So: plain functions, no dependency. Measured on this change: the 13 option files went from 2,198
 * to 2,252 lines (ten options objects that accepted any field now list theirs), their own
 * `invalidOption` calls from 113 to 45 (what is left is domain rules: DNS names, label selectors,
 * NATS URLs, TLS material), plus this module.
 */
import { invalidOption } from '../errors/messages';
import type { Clock } from './clock';
import type { Logger } from './logger';

/** The methods of a {@link Logger} and of a {@link Clock}, for {@link implementing}. */
export const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'] as const satisfies ReadonlyArray<
  keyof Logger
>;
export const CLOCK_METHODS = ['now', 'setTimeout', 'clearTimeout'] as const satisfies ReadonlyArray<
  keyof Clock
>;

/** The known fields of one options object, and fields renamed since an earlier release. */
export interface OptionFields {
  /** What the object is, for the error: `'keyspace option'` gives "is not a known keyspace option". */
  readonly what: string;
  /** Every field the object may have. Adding an option means adding its name here. */
  readonly fields: readonly string[];
  /** Old name -> new name; an old name is refused with the new one in the message. */
  readonly renamed?: Readonly<Record<string, string>>;
}

/** Path of `field` inside the object at `path`: `('', 'port')` -> `port`, `('admin', 'port')` -> `admin.port`. */
export function fieldPath(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

/**
 * Checks that `value` is a plain object whose every field is known, and returns it as a record.
 *
 * @param path the object's own path (`''` for top-level options); fields are named under it
 * @throws DistCacheError `E_INVALID_OPTION` naming the object, or the unknown field with the
 *   closest known one ("did you mean") or the name it was renamed to
 */
export function optionsObject(
  value: unknown,
  path: string,
  known: OptionFields,
  problem = 'must be an object',
): Record<string, unknown> {
  const record = plainObject(value, path, problem);
  for (const field of Object.keys(record)) {
    if (known.fields.includes(field)) continue;
    const renamedTo = known.renamed?.[field];
    const hint =
      renamedTo !== undefined
        ? `: it was renamed to "${renamedTo}"`
        : suggestion(closest(field, known.fields));
    throw invalidOption(fieldPath(path, field), `is not a known ${known.what}${hint}`);
  }
  return record;
}

/**
 * Checks that `value` is an object (not null, not an array), whatever its fields: options handed
 * on to a third-party client, which checks its own.
 * @throws DistCacheError `E_INVALID_OPTION` naming the object (`options` at the top)
 */
export function plainObject(
  value: unknown,
  path: string,
  problem = 'must be an object',
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption(path === '' ? 'options' : path, problem, value);
  }
  return value as Record<string, unknown>;
}

function suggestion(candidate: string | undefined): string {
  return candidate === undefined ? '' : `; did you mean "${candidate}"?`;
}

/**
 * The known name closest to `name` (edit distance, ignoring case), when it is close enough to be
 * a typo: at most 2 edits, and fewer than half the letters.
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.ceil(name.length / 2) - 1);
  const lower = name.toLowerCase();
  for (const candidate of known) {
    // More edits apart than allowed by their lengths alone: not measured (a name of 100,000
    // characters against 100 keyspaces blocked the loop 3 s).
    if (Math.abs(candidate.length - name.length) > bestDistance) continue;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= bestDistance) {
      best = candidate;
      bestDistance = distance - 1;
    }
  }
  return best;
}

/** Levenshtein distance, with adjacent transpositions counting as one edit (`tll` -> `ttl`). */
function editDistance(a: string, b: string): number {
  let before = Array.from({ length: b.length + 1 }, () => 0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, before[j - 2]! + 1);
      }
      current.push(distance);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * An integer in `[min, max]` (`max` defaults to the largest safe integer).
 * @throws DistCacheError `E_INVALID_OPTION`: "must be an integer from min to max" (or "of at least min")
 */
export function integer(value: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw invalidOption(path, `must be an integer ${range}`, value);
  }
  return value;
}

/** A finite number above zero. @throws DistCacheError `E_INVALID_OPTION` */
export function positiveNumber(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidOption(path, 'must be a positive number', value);
  }
  return value;
}

/**
 * A number in a range whose ends may be open: `numberIn(v, p, { above: 0, below: 1 })`.
 * @throws DistCacheError `E_INVALID_OPTION` saying the range
 */
export function numberIn(
  value: unknown,
  path: string,
  range: { readonly from?: number; readonly above?: number; readonly to?: number; readonly below?: number },
): number {
  const ok =
    typeof value === 'number' &&
    (range.from === undefined || value >= range.from) &&
    (range.above === undefined || value > range.above) &&
    (range.to === undefined || value <= range.to) &&
    (range.below === undefined || value < range.below);
  if (!ok) {
    const { from, above, to, below } = range;
    const low = from !== undefined ? `at least ${from}` : above !== undefined ? `above ${above}` : '';
    const high = to !== undefined ? `at most ${to}` : below !== undefined ? `below ${below}` : '';
    const text =
      from !== undefined && to !== undefined
        ? `from ${from} to ${to}`
        : [low, high].filter(Boolean).join(' and ');
    throw invalidOption(path, `must be a number ${text}`, value);
  }
  return value;
}

/** A boolean; `undefined` gives `fallback`. @throws DistCacheError `E_INVALID_OPTION` */
export function flag(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(path, 'must be true or false', value);
  return value;
}

/** A string of at least one character. @throws DistCacheError `E_INVALID_OPTION` */
export function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidOption(path, 'must be a non-empty string', value);
  }
  return value;
}

/**
 * A string matching `pattern`, which `rule` describes. A `secret` (a token) is left out of the message.
 * @throws DistCacheError `E_INVALID_OPTION`
 */
export function matching(
  value: unknown,
  path: string,
  pattern: RegExp,
  rule: string,
  secret = false,
): string {
  if (typeof value !== 'string' || !pattern.test(value))
    throw invalidOption(path, rule, secret ? undefined : value);
  return value;
}

/** One of a few literal values. @throws DistCacheError `E_INVALID_OPTION` listing them */
export function oneOf<const T extends string | number | boolean>(
  value: unknown,
  path: string,
  choices: readonly T[],
): T {
  if (!choices.includes(value as T)) {
    const listed = choices.map((choice) => JSON.stringify(choice));
    const text =
      listed.length === 1 ? listed[0]! : `${listed.slice(0, -1).join(', ')} or ${listed[listed.length - 1]!}`;
    throw invalidOption(path, `must be ${text}`, value);
  }
  return value as T;
}

/** A non-empty array of non-empty strings (or an empty one when `allowEmpty`). */
export function stringList(value: unknown, path: string, what: string, allowEmpty = true): readonly string[] {
  if (
    !Array.isArray(value) ||
    (!allowEmpty && value.length === 0) ||
    value.some((item) => typeof item !== 'string' || item.length === 0)
  ) {
    throw invalidOption(path, `must be ${allowEmpty ? 'an' : 'a non-empty'} array of ${what}`);
  }
  return Object.freeze([...(value as string[])]);
}

/**
 * An object with the given methods: a seam implementation (clock, logger, discovery provider).
 * @throws DistCacheError `E_INVALID_OPTION` naming the object (`problem` overrides the message)
 */
export function implementing<T>(value: T, path: string, methods: readonly string[], problem?: string): T {
  for (const method of methods) {
    if (typeof (value as Record<string, unknown> | null | undefined)?.[method] !== 'function') {
      throw invalidOption(path, problem ?? `must implement ${methods.map((m) => `${m}()`).join(', ')}`);
    }
  }
  return value;
}

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;

/**
 * A `"host:port"` string (IPv6 hosts in brackets: `"[::1]:3320"`), as peers are listed and named.
 * @throws DistCacheError `E_INVALID_OPTION` when it is not one, with a port in 1..65535
 */
export function hostPort(value: unknown, path: string): { host: string; port: number } {
  const match = typeof value === 'string' ? HOST_PORT.exec(value.trim()) : null;
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw invalidOption(path, 'must be "host:port" (IPv6 hosts in brackets) with a port in 1..65535', value);
  }
  return { host, port };
}
