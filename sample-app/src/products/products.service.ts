import { Injectable } from '@nestjs/common';
import { CacheEvict, DistCacheService, ReadThrough } from 'nestjs-distcache';
import { DataSourceCounter } from './data-source.counter.js';
import type { CategorySummary, Product, ProductPatch } from './product.js';
import { ProductsRepository } from './products.repository.js';
import { PRODUCTS } from './products.source.js';

/** The catalogue as the controllers see it: reads through the cache, writes to the database. */
@Injectable()
export class ProductsService {
  constructor(
    private readonly cache: DistCacheService,
    private readonly products: ProductsRepository,
    private readonly counter: DataSourceCounter,
  ) {}

  /** One product, from the cluster's cache (loaded by the key's owner on a miss). */
  find(id: number): Promise<Product | undefined> {
    return this.cache.get<Product>(PRODUCTS, String(id));
  }

  /** Several products; misses are batched per owner into one query each. */
  async findMany(ids: readonly number[]): Promise<Map<number, Product | undefined>> {
    const found = await this.cache.getMany<Product>(PRODUCTS, ids.map(String));
    return new Map([...found].map(([key, product]) => [Number(key), product]));
  }

  /**
   * Writes the database, then (once the write succeeded) evicts the product on every node, so the
   * next read anywhere loads the new row. A failed eviction rejects the call.
   */
  @CacheEvict(PRODUCTS, { key: (id: number) => String(id) })
  async update(id: number, patch: ProductPatch): Promise<Product | undefined> {
    this.counter.write();
    return this.products.update(id, patch);
  }

  /**
   * Aggregates of a category, cached for 30 s: the method itself is the keyspace's data source,
   * and the key is the category name. Price edits show up here after at most 30 s.
   */
  @ReadThrough('categories', { ttl: '30s', negativeTtl: '30s' })
  async categorySummary(category: string): Promise<CategorySummary | undefined> {
    this.counter.query();
    return this.products.categorySummary(category);
  }
}
