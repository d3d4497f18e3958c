import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule, ModulesContainer } from '@nestjs/core';
import { DistCacheEngine } from 'distcache-core';
import { DISTCACHE_ENGINE, DISTCACHE_MODULE_OPTIONS } from './distcache.constants';
import { DistCacheExplorer } from './distcache.explorer';
import { DistCacheLifecycle } from './distcache.lifecycle';
import { ConfigurableDistCacheModule } from './distcache.module-definition';
import type {
  DistCacheModuleAsyncOptions,
  DistCacheModuleForRootOptions,
  DistCacheModuleOptions,
} from './distcache.options';
import { DistCacheService } from './distcache.service';
import {
  asyncOptionsWithoutFactory,
  isGlobalFromFactory,
  moduleOptionsNotObject,
} from './explorer/bootstrap-errors';
import { isOptionsObject } from './explorer/decorator-options';
import { NestLoggerAdapter } from './logging/nest-logger.adapter';
import { checkSingleImport } from './single-import.check';

/**
 * Builds the engine from the module options; invalid options, and a second `forRoot()` in the
 * same application, fail here, before any engine exists.
 */
const engineProvider: Provider = {
  provide: DISTCACHE_ENGINE,
  inject: [DISTCACHE_MODULE_OPTIONS, ModulesContainer],
  useFactory: (options: DistCacheModuleOptions, modules: ModulesContainer): DistCacheEngine => {
    checkSingleImport(modules);
    // forRoot() checked its options and stripped its extras; what a forRootAsync factory returns
    // arrives as it is.
    if (!isOptionsObject(options)) throw moduleOptionsNotObject('factory', options);
    if ('isGlobal' in options) throw isGlobalFromFactory();
    return new DistCacheEngine({ ...options, logger: options.logger ?? new NestLoggerAdapter() });
  },
};

/**
 * The distcache module: one engine per application, started when the application bootstraps and
 * leaving the cluster on shutdown. Import it once, in the root module.
 *
 * @throws DistCacheError `E_INVALID_OPTION` when the application is compiled: invalid options, or
 *   a second `forRoot()`/`forRootAsync()` in the same application (with `isGlobal: true` on one,
 *   every module can inject `DistCacheService` without importing it again)
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     DistCacheModule.forRoot({
 *       isGlobal: true,
 *       port: 3320,
 *       discovery: staticDiscovery({ peers: ['10.0.0.1:3320', '10.0.0.2:3320'] }),
 *     }),
 *   ],
 * })
 * export class AppModule {}
 *
 * // or, from configuration:
 * DistCacheModule.forRootAsync({
 *   isGlobal: true,
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({
 *     // Environment variables are strings: `port` must be a number.
 *     port: Number(config.getOrThrow<string>('CACHE_PORT')),
 *     discovery: staticDiscovery({ peers: config.getOrThrow<string>('CACHE_PEERS').split(',') }),
 *   }),
 * });
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [engineProvider, DistCacheService, DistCacheExplorer, DistCacheLifecycle],
  exports: [DISTCACHE_ENGINE, DistCacheService],
})
export class DistCacheModule extends ConfigurableDistCacheModule {
  /**
   * The module, with the engine options and `isGlobal`.
   * @throws DistCacheError `E_INVALID_OPTION` when `options` is not an object
   */
  static override forRoot(options: DistCacheModuleForRootOptions): DynamicModule {
    // Nest's builder would fail on null with a bare TypeError.
    if (!isOptionsObject(options)) throw moduleOptionsNotObject('forRoot', options);
    return super.forRoot(options);
  }

  /**
   * The module, with options made by `useFactory`, `useClass` or `useExisting` (with `imports`,
   * `inject` and `isGlobal`).
   * @throws DistCacheError `E_INVALID_OPTION` when `options` is not an object naming one of them
   */
  static override forRootAsync(options: DistCacheModuleAsyncOptions): DynamicModule {
    const given = isOptionsObject(options) ? options : {};
    const ways = [given.useFactory, given.useClass, given.useExisting].filter((way) => way !== undefined);
    // Exactly one: with two, Nest would pick one silently.
    if (ways.length !== 1) throw asyncOptionsWithoutFactory(options);
    return super.forRootAsync(options);
  }
}
