import { type DynamicModule, Module } from '@nestjs/common';
import { INSTANCE_CONFIG, type InstanceConfig, type Variant } from './config.js';
import { ProductsController } from './products.controller.js';
import { SimulatedDatabase } from './simulated-database.js';
import { bentoCacheVariant } from './variants/bentocache.variant.js';
import { cacheManagerVariant } from './variants/cache-manager.variant.js';
import { distCacheStandaloneVariant, distCacheVariant } from './variants/distcache.variant.js';
import { localMapVariant } from './variants/local-map.variant.js';
import { noCacheVariant } from './variants/no-cache.variant.js';
import type { VariantParts } from './variants/variant.js';

function partsOf(variant: Variant, config: InstanceConfig): VariantParts {
  switch (variant) {
    case 'no-cache':
      return noCacheVariant();
    case 'cache-manager':
      return cacheManagerVariant(config);
    case 'bentocache':
      return bentoCacheVariant();
    case 'distcache':
      return distCacheVariant(config);
    case 'local-map':
      return localMapVariant();
    case 'distcache-standalone':
      return distCacheStandaloneVariant(config);
  }
}

/** The same controller and database in every variant; only the `Catalogue` (the cache) differs. */
@Module({})
export class AppModule {
  static forVariant(config: InstanceConfig): DynamicModule {
    const { imports, providers } = partsOf(config.variant, config);
    return {
      module: AppModule,
      imports,
      controllers: [ProductsController],
      providers: [{ provide: INSTANCE_CONFIG, useValue: config }, SimulatedDatabase, ...providers],
    };
  }
}
