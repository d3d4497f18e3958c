import type { Codec } from '../codec/codec';
import { structuredCodec } from '../codec/structured.codec';
import type { DataSource, FetchFunction } from '../datasource/datasource';
import { toDataSource } from '../datasource/datasource';
import { invalidOption } from '../errors/messages';
import {
  flag,
  integer,
  matching,
  oneOf,
  type OptionFields,
  optionsObject,
  stringList,
} from '../util/options';
import {
  type CircuitBreakerOptions,
  type RateLimitOptions,
  type ResolvedBreakerOptions,
  type ResolvedRateLimit,
  resolveBreakerOptions,
  resolveRateLimit,
} from '../datasource/protection.options';
import { type Duration, toMs, toOptionalMs, toPositiveMs } from '../util/duration';
import { DEFAULT_MAX_TAG_RECORDS } from './tag-versions';

/** How values are protected from callers who change what they got back. */
export type ValueMode = 'frozen' | 'copy';

/** Settings every keyspace has; engine-wide defaults use the same shape. */
export interface KeySpaceSettings {
  /**
   * Memory budget of the keyspace on this node, in bytes: what its entries really hold, values
   * (encoded bytes, or the decoded value once read in `valueMode: 'frozen'`), keys, per-entry
   * bookkeeping and hot copies together. Least recently used entries are evicted beyond it. A
   * decoded value is charged an estimate of its V8 heap size, measured within 20% of the real cost
   * (package README, "Memory accounting"); heap + external memory stayed within 1.04x `maxBytes`
   * after a fill beyond capacity (bench/README.md, "Memory per entry").
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Largest encoded value accepted, in bytes. Also capped by `maxBytes`.
   * @default 1048576 (1 MiB)
   */
  maxValueBytes?: number;
  /** How long a value stays fresh. `undefined` means until evicted or deleted. @default undefined */
  ttl?: Duration;
  /** How long a "not found" answer is remembered. `0` disables negative caching. @default 0 */
  negativeTtl?: Duration;
  /**
   * Longest a `get` waits, data-source load included. When it passes, the data source's signal is
   * aborted and callers get `E_DATASOURCE_TIMEOUT`, on every node: a node reading the key from its
   * owner waits up to 250 ms more for the owner's answer (`E_TIMEOUT` when none comes).
   * @default '5s'
   */
  readTimeout?: Duration;
  /** Longest a `put`/`delete` waits (matters once writes go to peers). @default '5s' */
  writeTimeout?: Duration;
  /**
   * `'frozen'`: reads return a deeply frozen value decoded once and kept in place of the bytes
   * (fastest; changing it throws in strict mode). `'copy'`: entries keep only the encoded bytes and
   * every read decodes a private copy the caller may change (smaller, slower hits). Values that
   * contain typed arrays or Buffers are always copied, since those cannot be frozen.
   * @default 'frozen'
   */
  valueMode?: ValueMode;
  /**
   * How long an expired value is kept to be served when the data source fails, is rate-limited or
   * its breaker is open (stale-if-error). `0` keeps nothing past expiry.
   * @default 0
   */
  grace?: Duration;
  /**
   * With `grace`: serve a stale value at once and refresh it in the background, instead of waiting
   * for the reload (stale-while-revalidate).
   * @default false
   */
  staleWhileRevalidate?: boolean;
  /** Circuit breaker around the data source; `true` for the defaults, `false` to turn it off. @default false */
  circuitBreaker?: CircuitBreakerOptions | boolean;
  /** Token bucket for this keyspace's data-source calls; `false` for none. @default false */
  rateLimit?: RateLimitOptions | false;
  /**
   * Tracking of popular keys (decayed counts, bounded memory), used to prefetch the keys a node
   * starts to own when members join or leave, and for `refreshAhead`. `false` turns it off.
   * @default { capacity: 1000, halfLife: '1m' }
   */
  popularKeys?: { capacity?: number; halfLife?: Duration } | false;
  /**
   * Reload popular keys this long before they expire, on their owner only (one data-source call per
   * key per refresh for the whole cluster). Needs `ttl`. `false` turns it off.
   * @default false
   */
  refreshAhead?: Duration | false;
}

/**
 * The tags of a value (see `KeySpaceDefinition.tags`). Declared as a method so that a keyspace of
 * `Product` fits where a keyspace of `unknown` is expected, like its data source.
 */
export type TagsFunction<T> = { bivariant(value: T, key: string): readonly string[] }['bivariant'];

/** A keyspace: a named cache with its own budget, expiry, data source and codec. */
export interface KeySpaceDefinition<T = unknown> extends KeySpaceSettings {
  /** Letters, digits, `.`, `_`, `-` and `:`; starts with a letter or digit; at most 64 characters. */
  name: string;
  /** Loads missing keys. Without one, a miss is simply `undefined` (cache-aside use). */
  dataSource?: DataSource<T> | FetchFunction<T>;
  /** @default structuredCodec() */
  codec?: Codec<T>;
  /** Keys each node loads at start, for the keys it owns; a function is called once per start. */
  warmKeys?: readonly string[] | (() => readonly string[] | Promise<readonly string[]>);
  /**
   * The tags of a value, computed when it is loaded (a `put` may give its own with the `tags`
   * option, which win). `engine.deleteByTags` removes every entry carrying one of the given tags,
   * on every node. At most 64 tags of up to 256 characters each.
   */
  tags?: TagsFunction<T>;
  /**
   * Tag invalidations this keyspace remembers on each node (each one until every entry it can
   * revoke has expired). Past it the oldest is forgotten and every tagged entry older than it is
   * treated as invalidated: more reloads, never a stale read.
   * @default 10000
   */
  maxTagRecords?: number;
}

/** Effective keyspace configuration: defaults applied, durations in milliseconds. */
export interface ResolvedKeySpaceConfig<T = unknown> {
  readonly name: string;
  readonly maxBytes: number;
  readonly maxValueBytes: number;
  /** `undefined`: no expiry. */
  readonly ttlMs: number | undefined;
  readonly negativeTtlMs: number;
  readonly readTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly valueMode: ValueMode;
  readonly graceMs: number;
  readonly staleWhileRevalidate: boolean;
  readonly circuitBreaker: ResolvedBreakerOptions | undefined;
  readonly rateLimit: ResolvedRateLimit | undefined;
  readonly popularKeys: { readonly capacity: number; readonly halfLifeMs: number } | undefined;
  readonly refreshAheadMs: number | undefined;
  readonly warmKeys: KeySpaceDefinition<T>['warmKeys'];
  readonly dataSource: DataSource<T> | undefined;
  readonly codec: Codec<T>;
  readonly tags: TagsFunction<T> | undefined;
  readonly maxTagRecords: number;
}

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
export const DEFAULT_READ_TIMEOUT: Duration = '5s';
export const DEFAULT_WRITE_TIMEOUT: Duration = '5s';
/** Default of `popularKeys.capacity`: keys tracked per keyspace. */
export const DEFAULT_POPULAR_KEYS_CAPACITY = 1_000;
/** Upper bound of `popularKeys.capacity` (the tracker's memory grows with it). */
export const MAX_POPULAR_KEYS_CAPACITY = 1_000_000;
/** Default of `popularKeys.halfLife`: how fast a key's count decays. */
export const DEFAULT_POPULAR_KEYS_HALF_LIFE: Duration = '1m';
export const KEYSPACE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** The fields of {@link KeySpaceSettings}; a new setting adds its name here. */
const SETTING_FIELDS = [
  'maxBytes',
  'maxValueBytes',
  'ttl',
  'negativeTtl',
  'readTimeout',
  'writeTimeout',
  'valueMode',
  'grace',
  'staleWhileRevalidate',
  'circuitBreaker',
  'rateLimit',
  'popularKeys',
  'refreshAhead',
] as const satisfies ReadonlyArray<keyof KeySpaceSettings>;
/** Old names of keyspace settings, refused with their new name. */
const RENAMED: Readonly<Record<string, string>> = { hotKeys: 'popularKeys' };
const SETTINGS: OptionFields = { what: 'keyspace setting', fields: SETTING_FIELDS, renamed: RENAMED };
/** The fields of {@link KeySpaceDefinition}: the settings and what only a definition has. */
const DEFINITION: OptionFields = {
  what: 'keyspace option',
  fields: [
    ...SETTING_FIELDS,
    'name',
    'dataSource',
    'codec',
    'warmKeys',
    'tags',
    'maxTagRecords',
  ] satisfies ReadonlyArray<keyof KeySpaceDefinition>,
  renamed: RENAMED,
};
const POPULAR_KEYS: OptionFields = { what: 'popular-key option', fields: ['capacity', 'halfLife'] };

/**
 * Declares a keyspace with its value type; validates it at once.
 *
 * @throws DistCacheError `E_INVALID_OPTION` naming the field
 * @example
 * const products = defineKeySpace<Product>({ name: 'products', ttl: '5m', dataSource: { fetch: loadProduct } });
 */
export function defineKeySpace<T>(definition: KeySpaceDefinition<T>): KeySpaceDefinition<T> {
  resolveKeySpaceConfig(definition, {}, 'keySpace');
  return definition;
}

/**
 * Validates keyspace settings (engine defaults or a definition's own) without a name.
 * @throws DistCacheError `E_INVALID_OPTION`
 */
export function validateKeySpaceSettings(settings: unknown, path: string): KeySpaceSettings {
  optionsObject(settings, path, SETTINGS);
  // Check the values too, so a bad default fails now even if every keyspace overrides it.
  resolveKeySpaceConfig({ ...(settings as KeySpaceSettings), name: 'defaults' }, {}, path, true);
  return settings as KeySpaceSettings;
}

/**
 * Fills defaults (definition -> engine defaults -> built-in) and checks every field.
 * @throws DistCacheError `E_INVALID_OPTION` naming the field path
 */
export function resolveKeySpaceConfig<T>(
  definition: KeySpaceDefinition<T>,
  defaults: KeySpaceSettings,
  path: string,
  /** `definition` is the engine's defaults, checked alone: they apply to every keyspace. */
  asDefaults = false,
): ResolvedKeySpaceConfig<T> {
  optionsObject(definition, path, DEFINITION, 'must be a keyspace definition object');
  const name = matching(
    definition.name,
    `${path}.name`,
    KEYSPACE_NAME_PATTERN,
    'must be 1-64 letters, digits, ".", "_", "-" or ":", starting with a letter or digit',
  );
  const pick = <K extends keyof KeySpaceSettings>(key: K): KeySpaceSettings[K] =>
    definition[key] ?? defaults[key];

  const maxBytes = integer(pick('maxBytes') ?? DEFAULT_MAX_BYTES, `${path}.maxBytes`, 1);
  const maxValueBytes = integer(pick('maxValueBytes') ?? DEFAULT_MAX_VALUE_BYTES, `${path}.maxValueBytes`, 1);
  const ttlMs = toOptionalMs(pick('ttl'), `${path}.ttl`);
  if (ttlMs === 0) throw invalidOption(`${path}.ttl`, 'must be greater than zero (omit it for no expiry)', 0);
  const dataSource = definition.dataSource === undefined ? undefined : toDataSource(definition.dataSource);
  if (dataSource !== undefined && typeof dataSource.fetch !== 'function') {
    throw invalidOption(
      `${path}.dataSource`,
      'must be a function or an object with a fetch(key, context) method',
    );
  }
  if (dataSource?.fetchMany !== undefined && typeof dataSource.fetchMany !== 'function') {
    throw invalidOption(`${path}.dataSource.fetchMany`, 'must be a function when given');
  }
  const codec: Codec<T> = definition.codec ?? structuredCodec<T>();
  if (
    typeof codec.encode !== 'function' ||
    typeof codec.decode !== 'function' ||
    typeof codec.name !== 'string'
  ) {
    throw invalidOption(`${path}.codec`, 'must have a name and encode/decode functions');
  }
  if (definition.tags !== undefined && typeof definition.tags !== 'function') {
    throw invalidOption(`${path}.tags`, 'must be a function (value, key) => string[]');
  }
  const maxTagRecords = definition.maxTagRecords ?? DEFAULT_MAX_TAG_RECORDS;
  if (!Number.isSafeInteger(maxTagRecords) || maxTagRecords <= 0) {
    throw invalidOption(`${path}.maxTagRecords`, 'must be a positive integer', maxTagRecords);
  }
  const graceMs = toMs(pick('grace') ?? 0, `${path}.grace`);
  // Set on the keyspace itself without a grace period it would do nothing: an entry is stale only
  // within grace. Inherited from the engine's defaults it is let be (those apply to every keyspace).
  if (!asDefaults && definition.staleWhileRevalidate === true && graceMs === 0) {
    throw invalidOption(
      `${path}.staleWhileRevalidate`,
      'needs a grace period ("grace"): a value is served stale only within it',
    );
  }
  return Object.freeze({
    name,
    maxBytes,
    maxValueBytes: Math.min(maxValueBytes, maxBytes),
    ttlMs,
    negativeTtlMs: toMs(pick('negativeTtl') ?? 0, `${path}.negativeTtl`),
    readTimeoutMs: toPositiveMs(pick('readTimeout') ?? DEFAULT_READ_TIMEOUT, `${path}.readTimeout`),
    writeTimeoutMs: toPositiveMs(pick('writeTimeout') ?? DEFAULT_WRITE_TIMEOUT, `${path}.writeTimeout`),
    valueMode: oneOf(pick('valueMode') ?? 'frozen', `${path}.valueMode`, ['frozen', 'copy']),
    graceMs,
    staleWhileRevalidate: flag(pick('staleWhileRevalidate'), `${path}.staleWhileRevalidate`, false),
    circuitBreaker: resolveBreakerOptions(pick('circuitBreaker'), `${path}.circuitBreaker`),
    rateLimit: resolveRateLimit(pick('rateLimit'), `${path}.rateLimit`),
    popularKeys: resolvePopularKeys(pick('popularKeys'), `${path}.popularKeys`),
    refreshAheadMs: resolveRefreshAhead(pick('refreshAhead'), ttlMs, `${path}.refreshAhead`),
    warmKeys: resolveWarmKeys(definition.warmKeys, `${path}.warmKeys`),
    dataSource,
    codec,
    tags: definition.tags,
    maxTagRecords,
  });
}

function resolvePopularKeys(
  value: KeySpaceSettings['popularKeys'],
  path: string,
): ResolvedKeySpaceConfig['popularKeys'] {
  if (value === false) return undefined;
  const input: { capacity?: number; halfLife?: Duration } = optionsObject(
    value ?? {},
    path,
    POPULAR_KEYS,
    'must be popular-key options or false',
  );
  return Object.freeze({
    capacity: integer(
      input.capacity ?? DEFAULT_POPULAR_KEYS_CAPACITY,
      `${path}.capacity`,
      1,
      MAX_POPULAR_KEYS_CAPACITY,
    ),
    halfLifeMs: toPositiveMs(input.halfLife ?? DEFAULT_POPULAR_KEYS_HALF_LIFE, `${path}.halfLife`),
  });
}

function resolveRefreshAhead(value: Duration | false | undefined, ttlMs: number | undefined, path: string) {
  if (value === undefined || value === false) return undefined;
  const ms = toPositiveMs(value, path);
  if (ttlMs === undefined || ms >= ttlMs) throw invalidOption(path, 'needs a ttl longer than itself', value);
  return ms;
}

function resolveWarmKeys<T>(
  value: KeySpaceDefinition<T>['warmKeys'],
  path: string,
): KeySpaceDefinition<T>['warmKeys'] {
  if (value === undefined || typeof value === 'function') return value;
  return stringList(value, path, 'non-empty strings or a function returning one');
}
