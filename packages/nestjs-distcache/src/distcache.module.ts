import { Module, type Provider } from '@nestjs/common';
import { DiscoveryModule, ModulesContainer } from '@nestjs/core';
import { DistCacheEngine } from 'distcache-core';
import { DISTCACHE_ENGINE, DISTCACHE_MODULE_OPTIONS } from './distcache.constants';
import { DistCacheExplorer } from './distcache.explorer';
import { DistCacheLifecycle } from './distcache.lifecycle';
import { ConfigurableDistCacheModule } from './distcache.module-definition';
import type { DistCacheModuleOptions } from './distcache.options';
import { DistCacheService } from './distcache.service';
import { isGlobalFromFactory } from './explorer/bootstrap-errors';
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
    // forRoot() strips its extras; what a forRootAsync factory returns arrives as it is.
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
export class DistCacheModule extends ConfigurableDistCacheModule {}
