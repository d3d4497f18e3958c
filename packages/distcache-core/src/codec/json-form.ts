/**
 * The JSON form of the default codec (see `structured.codec.ts`), which nodes of earlier versions
 * write and this one still reads; it writes the shaped form (`shaped-form.ts`), which decodes the
 * ~1 KB bench product in ~1.6 µs against ~4 µs for this one. A value made only of plain objects,
 * dense arrays, strings, finite numbers other than -0, booleans, null and valid Dates was written
 * as JSON text, with the paths of its Dates listed so that they come back as Dates.
 *
 * Why a form other than V8's (for both): V8's deserializer keeps every object it decoded reachable
 * until its wrapper is collected, which a scavenge never does (Node adds a property to the
 * wrapper, so the young-generation GC treats its weak handle as strong). Every decoded value then
 * survives a scavenge: a loop of `v8.deserialize` keeps ~7 MB alive per scavenge where
 * `JSON.parse` keeps ~0, and each scavenge costs 10-30 ms instead of ~1 (bench/README.md,
 * "Default codec").
 *
 * Layout after the marker byte: the JSON text of the value ({@link JSON_PLAIN}); or
 * ({@link JSON_DATES}) the JSON text of the Date paths, a newline (which JSON text never holds
 * raw), and the JSON text of the value, its Dates as `toISOString` writes them. A path is the keys
 * (strings) and indices (numbers) leading to a Date.
 */

/** Marker of a value written as JSON text, with no Dates. V8's format starts with 0xFF. */
export const JSON_PLAIN = 0x01;
/** Marker of Date paths and a value, each written as JSON text, a newline between. */
export const JSON_DATES = 0x02;

/** A Date path as decoding reads it (shared between values, so never changed). */
type SharedPath = ReadonlyArray<string | number>;

/**
 * The Date paths of a JSON-form value, from their JSON text: parsed and checked once per distinct
 * text, then shared (frozen). Values of one shape carry the same text, so a decode of the ~1 KB
 * bench product with two Dates skips a `JSON.parse` and the checks of the paths' form (~0.4 of
 * ~5 µs, bench/README.md, "Miss path"). The texts kept are bounded by their total length
 * ({@link MAX_CACHED_CHARS}); when it is reached the cache starts over, so shapes that come and go
 * (paths through array indices or record keys taken from data) cannot keep the common ones out.
 * @throws TypeError when the text is not a list of paths
 */
export function datePaths(text: string): readonly SharedPath[] {
  const cached = pathsCache.get(text);
  if (cached !== undefined) return cached;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformed();
  }
  const paths = checkedPaths(parsed);
  if (text.length <= MAX_CACHED_TEXT) {
    if (cachedChars + text.length > MAX_CACHED_CHARS) {
      pathsCache.clear();
      cachedChars = 0;
    }
    pathsCache.set(text, paths);
    cachedChars += text.length;
  }
  return paths;
}

/** Characters of Date-path texts kept parsed, in all: ~1 MB of parsed paths at most. */
export const MAX_CACHED_CHARS = 64 * 1024;
/** Longest Date-path text kept parsed (characters); longer ones are parsed on every read. */
export const MAX_CACHED_TEXT = 2048;
const pathsCache = new Map<string, readonly SharedPath[]>();
let cachedChars = 0;

/** The paths of `parsed` when it is a list of paths (steps: strings and integers), frozen. */
function checkedPaths(parsed: unknown): readonly SharedPath[] {
  if (!Array.isArray(parsed)) throw malformed();
  for (const path of parsed as unknown[]) {
    if (!Array.isArray(path)) throw malformed();
    // The value itself is a Date: then it is the only one.
    if (path.length === 0 && parsed.length !== 1) throw malformed();
    for (const step of path as unknown[])
      if (typeof step !== 'string' && !Number.isInteger(step)) throw malformed();
    Object.freeze(path);
  }
  return Object.freeze(parsed as SharedPath[]);
}

/**
 * Turns the ISO strings at `paths` (from {@link datePaths}) of a decoded value back into Dates;
 * returns the value. The paths come from another node: each step must be an own key of an object or
 * array on the way and the last must hold a string, or the bytes are refused (a step through
 * `__proto__` or `constructor` of a JSON.parse'd value would otherwise reach the prototypes).
 * @throws TypeError on paths that do not fit the value
 */
export function reviveDates(value: unknown, paths: readonly SharedPath[]): unknown {
  for (const path of paths) {
    if (path.length === 0) {
      if (typeof value !== 'string') throw malformed();
      return isoDate(value);
    }
    let parent: unknown = value;
    const last = path.length - 1;
    for (let index = 0; index < last; index++) parent = ownStep(parent, path[index] as string | number);
    const step = path[last] as string | number;
    const text = ownStep(parent, step);
    if (typeof text !== 'string') throw malformed();
    (parent as Record<string | number, unknown>)[step] = isoDate(text);
  }
  return value;
}

/** `parent[step]` when `parent` is an object or array with `step` as an own key. */
function ownStep(parent: unknown, step: string | number): unknown {
  if (typeof parent !== 'object' || parent === null || !Object.hasOwn(parent, step)) throw malformed();
  return (parent as Record<string | number, unknown>)[step];
}

function malformed(): TypeError {
  return new TypeError('malformed Date paths in a JSON-form value');
}

/**
 * A Date from what `toISOString` wrote. Its usual form, `YYYY-MM-DDTHH:mm:ss.sssZ` with a year from
 * 100 to 9999, is read by hand (cheaper than V8's date parser); other years go to the parser
 * (`Date.UTC` reads years 0-99 as 1900-1999).
 */
function isoDate(text: string): Date {
  const year = text.length === 24 ? digits(text, 0, 4) : 0;
  if (year < 100) return new Date(text);
  return new Date(
    Date.UTC(
      year,
      digits(text, 5, 2) - 1,
      digits(text, 8, 2),
      digits(text, 11, 2),
      digits(text, 14, 2),
      digits(text, 17, 2),
      digits(text, 20, 3),
    ),
  );
}

function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index++) value = value * 10 + text.charCodeAt(index) - 48;
  return value;
}
