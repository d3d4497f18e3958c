import type { Codec, Duration, KeySpaceDefinition, KeySpaceSettings } from 'distcache-core';

/**
 * A method decorator that only accepts methods returning a Promise: caching makes every call
 * asynchronous, so a synchronous method would change type under its callers. The same rule is
 * checked again at bootstrap for code compiled without type checks. `A` are the parameters the
 * decorator's `key` function takes: the method's leading parameters must accept them, so a key
 * function written for other parameter types does not compile.
 */
export type AsyncMethodDecorator<A extends readonly unknown[] = never[]> = <
  M extends (...args: MethodArgs<A>) => Promise<unknown>,
>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

/**
 * Parameters a method must accept for a key function taking `A`: `A` first, anything after
 * (`never[]` when no key function was given, so any method fits).
 */
export type MethodArgs<A extends readonly unknown[]> = number extends A['length']
  ? never[]
  : [...A, ...never[]];

/**
 * Maps a method's arguments to a cache key. Its parameter types are checked against the decorated
 * method's: annotate them (`(id: string, _name: string) => id`).
 */
export type KeyFunction<A extends readonly unknown[] = never[], K = string> = (...args: A) => K;

/** Settings of a keyspace declared by a decorator (everything but its name and data source). */
export interface DecoratedKeySpaceSettings extends KeySpaceSettings {
  /** Value codec; every node must use the same one. @default structuredCodec() */
  codec?: Codec<unknown>;
  /** Keys loaded at start by their owners (for `@ReadThrough`, keys as the method would derive them). */
  warmKeys?: KeySpaceDefinition['warmKeys'];
  /**
   * The tags of a loaded value (for `DistCacheService.deleteByTags` and `@CacheEvict({ tags })`).
   * @example tags: (product: Product) => [`category:${product.categoryId}`]
   */
  tags?: KeySpaceDefinition['tags'];
  /** Tag invalidations remembered per node (see the core's `maxTagRecords`). @default 10000 */
  maxTagRecords?: number;
}

/** Options of `@ReadThrough`; `A` are the method's parameters, as `key` takes them. */
export interface ReadThroughOptions<
  A extends readonly unknown[] = never[],
> extends DecoratedKeySpaceSettings {
  /**
   * Derives the key from the arguments, instead of the default encoding. Give `args` too: the
   * owner node calls the method from the key alone.
   * @example key: (sku: string, locale: string) => `${locale}/${sku}`
   */
  key?: KeyFunction<A>;
  /**
   * Rebuilds the arguments from a key made by `key`, on the node that owns the key.
   * @example args: (key): [string, string] => { const [locale, sku] = key.split('/'); return [sku!, locale!]; }
   */
  args?: (key: string) => Readonly<A> | Promise<Readonly<A>>;
}

/** Options of `@CacheEvict`; `A` are the parameters `key` takes. */
export interface CacheEvictOptions<A extends readonly unknown[] = never[]> {
  /**
   * Derives the key(s) to evict from the method's arguments. By default the arguments are encoded
   * like `@ReadThrough` does, so `remove(id)` evicts what `find(id)` cached.
   * @example key: (id: string, _patch: Patch) => id
   */
  key?: KeyFunction<A, string | readonly string[]>;
  /**
   * Derives tags from the method's arguments: every entry carrying one of them is removed, on
   * every node (`deleteByTags`). With `tags` alone no key is evicted; give `key` too for both.
   * @example tags: (categoryId: string) => [`category:${categoryId}`]
   */
  tags?: KeyFunction<A, readonly string[]>;
}

/** Options of `@CachePut`; `A` are the parameters `key` takes. */
export interface CachePutOptions<A extends readonly unknown[] = never[]> {
  /**
   * Derives the key to store the result under from the method's arguments; by default the
   * arguments are encoded like `@ReadThrough` does.
   * @example key: (product: Product) => product.id
   */
  key?: KeyFunction<A>;
  /** Expiry of the stored entry, overriding the keyspace `ttl`. */
  ttl?: Duration;
}

/** What `@ReadThrough` records on a method. */
export interface ReadThroughMetadata {
  readonly keySpace: string;
  readonly options: ReadThroughOptions<never>;
}

/** What `@CacheEvict` and `@CachePut` record on a method, in source order. */
export type CacheWriteMetadata =
  | { readonly kind: 'evict'; readonly keySpace: string; readonly options: CacheEvictOptions<never> }
  | { readonly kind: 'put'; readonly keySpace: string; readonly options: CachePutOptions<never> };
