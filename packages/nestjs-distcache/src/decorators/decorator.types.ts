import type { Codec, Duration, KeySpaceDefinition, KeySpaceSettings } from 'distcache-core';

/**
 * A method decorator that only accepts methods returning a Promise: caching makes every call
 * asynchronous, so a synchronous method would change type under its callers. The same rule is
 * checked again at bootstrap for code compiled without type checks.
 */
export type AsyncMethodDecorator = <M extends (...args: never[]) => Promise<unknown>>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

/** Maps a method's arguments to a cache key. Typed loosely so any parameter list fits. */
export type KeyFunction<K = string> = (...args: never[]) => K;

/** Settings of a keyspace declared by a decorator (everything but its name and data source). */
export interface DecoratedKeySpaceSettings extends KeySpaceSettings {
  /** Value codec; every node must use the same one. @default structuredCodec() */
  codec?: Codec<unknown>;
  /** Keys loaded at start by their owners (for `@ReadThrough`, keys as the method would derive them). */
  warmKeys?: KeySpaceDefinition['warmKeys'];
}

/** Options of `@ReadThrough`. */
export interface ReadThroughOptions extends DecoratedKeySpaceSettings {
  /**
   * Derives the key from the arguments, instead of the default encoding. Give `args` too: the
   * owner node calls the method from the key alone.
   * @example key: (sku: string, locale: string) => `${locale}/${sku}`
   */
  key?: KeyFunction;
  /**
   * Rebuilds the arguments from a key made by `key`, on the node that owns the key.
   * @example args: (key) => { const [locale, sku] = key.split('/'); return [sku, locale]; }
   */
  args?: (key: string) => readonly unknown[] | Promise<readonly unknown[]>;
}

/** Options of `@CacheEvict`. */
export interface CacheEvictOptions {
  /**
   * Derives the key(s) to evict from the method's arguments. By default the arguments are encoded
   * like `@ReadThrough` does, so `remove(id)` evicts what `find(id)` cached.
   * @example key: (id: string, _patch: Patch) => id
   */
  key?: KeyFunction<string | readonly string[]>;
}

/** Options of `@CachePut`. */
export interface CachePutOptions {
  /**
   * Derives the key to store the result under from the method's arguments; by default the
   * arguments are encoded like `@ReadThrough` does.
   * @example key: (product: Product) => product.id
   */
  key?: KeyFunction;
  /** Expiry of the stored entry, overriding the keyspace `ttl`. */
  ttl?: Duration;
}

/** What `@ReadThrough` records on a method. */
export interface ReadThroughMetadata {
  readonly keySpace: string;
  readonly options: ReadThroughOptions;
}

/** What `@CacheEvict` and `@CachePut` record on a method, in source order. */
export type CacheWriteMetadata =
  | { readonly kind: 'evict'; readonly keySpace: string; readonly options: CacheEvictOptions }
  | { readonly kind: 'put'; readonly keySpace: string; readonly options: CachePutOptions };
