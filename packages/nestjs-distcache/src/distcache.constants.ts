// Injection tokens and metadata keys. Tokens are strings, not symbols, so that the main entry and
// the `nestjs-distcache/terminus` entry (or an ESM and a CJS copy) agree on them.

/** Injection token of the raw {@link DistCacheEngine} the module created. */
export const DISTCACHE_ENGINE = 'DISTCACHE_ENGINE';

/** Injection token of the options given to `DistCacheModule.forRoot()` / `forRootAsync()`. */
export const DISTCACHE_MODULE_OPTIONS = 'DISTCACHE_MODULE_OPTIONS';

/** @internal Class metadata written by `@KeySpace`. */
export const KEYSPACE_METADATA = 'distcache:keyspace';
/** @internal Method metadata written by `@ReadThrough`. */
export const READ_THROUGH_METADATA = 'distcache:read-through';
/** @internal Method metadata written by `@CacheEvict` and `@CachePut` (a list, in source order). */
export const CACHE_WRITE_METADATA = 'distcache:cache-write';
/**
 * @internal Prototype metadata written by `@ReadThrough`, `@CacheEvict` and `@CachePut` when put on
 * something other than an instance method (a list), so that bootstrap refuses it.
 */
export const MISPLACED_METADATA = 'distcache:misplaced';
