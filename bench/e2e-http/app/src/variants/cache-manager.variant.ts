import { createKeyv } from '@keyv/redis';
import { CACHE_MANAGER, CacheModule, type Cache } from '@nestjs/cache-manager';
import { Inject, Injectable } from '@nestjs/common';
import { Catalogue } from '../catalogue.js';
import type { InstanceConfig } from '../config.js';
import type { Product } from '../product.js';
import { SimulatedDatabase } from '../simulated-database.js';
import type { VariantParts } from './variant.js';

/**
 * `@nestjs/cache-manager` on a Keyv Redis store shared by the three instances, read cache-aside
 * with `wrap` (a get, and on a miss the database then a set; concurrent misses of one key on one
 * instance share the load).
 */
@Injectable()
export class CacheManagerCatalogue extends Catalogue {
  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    private readonly database: SimulatedDatabase,
  ) {
    super();
  }

  override find(id: string): Promise<Product | undefined> {
    return this.cache.wrap(`product:${id}`, () => this.database.findProduct(id));
  }
}

export function cacheManagerVariant(config: InstanceConfig): VariantParts {
  const { host, port } = config.redis;
  return {
    imports: [
      CacheModule.register({
        stores: [createKeyv(`redis://${host}:${port}`, { namespace: `${config.prefix}:cache-manager` })],
        ttl: config.ttlMs,
      }),
    ],
    providers: [{ provide: Catalogue, useClass: CacheManagerCatalogue }],
  };
}
