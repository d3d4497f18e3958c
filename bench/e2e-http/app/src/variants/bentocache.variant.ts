import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { Catalogue } from '../catalogue.js';
import { INSTANCE_CONFIG, type InstanceConfig } from '../config.js';
import type { Product } from '../product.js';
import { SimulatedDatabase } from '../simulated-database.js';
import type { VariantParts } from './variant.js';

function createBento(config: InstanceConfig) {
  const connection = { host: config.redis.host, port: config.redis.port };
  return new BentoCache({
    default: 'products',
    prefix: `${config.prefix}:bentocache`,
    ttl: config.ttlMs,
    stores: {
      products: bentostore()
        // The L1 gets the byte budget distcache's keyspace gets; its item cap (1,000 by default)
        // is raised to the catalogue's size so that the byte budget is what bounds it.
        .useL1Layer(memoryDriver({ maxSize: config.memoryBytes, maxItems: config.products }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  });
}

type ProductsBento = ReturnType<typeof createBento>;
const BENTO = Symbol('BENTO');

/**
 * bentocache: memory L1 per instance, Redis L2 shared by the three, Redis bus (L1 invalidation
 * across instances on writes), read with `getOrSet` (L1, then L2, then the database; concurrent
 * misses of one key on one instance share the load).
 */
@Injectable()
export class BentoCacheCatalogue extends Catalogue implements OnApplicationShutdown {
  constructor(
    @Inject(BENTO) private readonly bento: ProductsBento,
    private readonly database: SimulatedDatabase,
  ) {
    super();
  }

  override find(id: string): Promise<Product | undefined> {
    return this.bento.getOrSet({ key: `product:${id}`, factory: () => this.database.findProduct(id) });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bento.disconnect();
  }
}

export function bentoCacheVariant(): VariantParts {
  return {
    imports: [],
    providers: [
      { provide: BENTO, useFactory: createBento, inject: [INSTANCE_CONFIG] },
      { provide: Catalogue, useClass: BentoCacheCatalogue },
    ],
  };
}
