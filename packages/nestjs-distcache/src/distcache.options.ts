import type { ConfigurableModuleOptionsFactory } from '@nestjs/common';
import type { DistCacheEngineOptions } from 'distcache-core';
import type { DISTCACHE_ASYNC_OPTIONS_TYPE, DISTCACHE_OPTIONS_TYPE } from './distcache.module-definition';

/**
 * Options of `DistCacheModule.forRoot()` and of the `useFactory`/`useClass` of `forRootAsync()`:
 * the engine options of `distcache-core`, unchanged (peer listener, discovery, TLS, cluster tuning,
 * keyspace defaults, static keyspaces...). When `logger` is absent the engine and the module log
 * through Nest's `Logger` with the context `DistCache`. `isGlobal` is not one of them: give it to
 * `forRootAsync()` itself, beside `useFactory`.
 *
 * Keyspaces usually come from `@KeySpace` providers and `@ReadThrough` methods; `keySpaces` here
 * is for cache-aside keyspaces without a data source, or sources that need no DI.
 */
export type DistCacheModuleOptions = DistCacheEngineOptions;

/** Options the module definition reads itself; they never reach the engine. */
export interface DistCacheModuleExtras {
  /**
   * Registers the module globally: `DistCacheService` and the engine token can be injected
   * everywhere without importing `DistCacheModule` again.
   * @default false
   */
  isGlobal?: boolean;
}

/** What `DistCacheModule.forRoot()` takes: the engine options plus `isGlobal`. */
export type DistCacheModuleForRootOptions = typeof DISTCACHE_OPTIONS_TYPE;

/**
 * What `DistCacheModule.forRootAsync()` takes: `imports`, `inject` and one of `useFactory`,
 * `useClass` (a class with `createDistCacheOptions()`) or `useExisting`, plus `isGlobal`.
 */
export type DistCacheModuleAsyncOptions = typeof DISTCACHE_ASYNC_OPTIONS_TYPE;

/**
 * A class for `forRootAsync({ useClass })`: Nest instantiates it with DI and calls
 * `createDistCacheOptions()`.
 * @example
 * ```ts
 * @Injectable()
 * export class CacheConfig implements DistCacheOptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *   createDistCacheOptions(): DistCacheModuleOptions {
 *     // Environment variables are strings: `port` must be a number.
 *     return { port: Number(this.config.getOrThrow<string>('CACHE_PORT')) };
 *   }
 * }
 * ```
 */
export type DistCacheOptionsFactory = ConfigurableModuleOptionsFactory<
  DistCacheModuleOptions,
  'createDistCacheOptions'
>;
