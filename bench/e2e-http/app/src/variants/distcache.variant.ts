import { Injectable } from '@nestjs/common';
import { standaloneDiscovery, staticDiscovery } from 'distcache-core';
import { DistCacheModule, ReadThrough } from 'nestjs-distcache';
import { Catalogue } from '../catalogue.js';
import type { InstanceConfig } from '../config.js';
import type { Product } from '../product.js';
import { SimulatedDatabase } from '../simulated-database.js';
import type { VariantParts } from './variant.js';

/**
 * distcache: the three instances are the cache. `find` is the data source of keyspace `products`
 * (`@ReadThrough`); a call goes through the cluster, and a miss is loaded once, by the key's owner.
 */
@Injectable()
export class DistCacheCatalogue extends Catalogue {
  constructor(private readonly database: SimulatedDatabase) {
    super();
  }

  @ReadThrough('products')
  override async find(id: string): Promise<Product | undefined> {
    return this.database.findProduct(id);
  }
}

export function distCacheVariant(config: InstanceConfig): VariantParts {
  return {
    imports: [
      DistCacheModule.forRoot({
        nodeName: `e2e-http-${config.index}`,
        cluster: config.cluster,
        host: '127.0.0.1',
        port: config.peerPorts[config.index],
        discovery: staticDiscovery({ peers: config.peerPorts.map((port) => `127.0.0.1:${port}`) }),
        keySpaceDefaults: { ttl: config.ttlMs, maxBytes: config.memoryBytes },
      }),
    ],
    providers: [{ provide: Catalogue, useClass: DistCacheCatalogue }],
  };
}

/**
 * A reference, not a deployment: the same `@ReadThrough` catalogue on one standalone engine per
 * instance (no peers, every miss loaded by the instance that had it). Against `distcache` it splits
 * the cost of the engine from the cost of the cluster; against `local-map`, the engine's cost over
 * a plain Map (with every read a hit, the two serve at the same CPU per request).
 */
export function distCacheStandaloneVariant(config: InstanceConfig): VariantParts {
  return {
    imports: [
      DistCacheModule.forRoot({
        nodeName: `e2e-http-standalone-${config.index}`,
        discovery: standaloneDiscovery(),
        keySpaceDefaults: { ttl: config.ttlMs, maxBytes: config.memoryBytes },
      }),
    ],
    providers: [{ provide: Catalogue, useClass: DistCacheCatalogue }],
  };
}
