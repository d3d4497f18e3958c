import { Injectable } from '@nestjs/common';
import type { FetchContext } from 'distcache-core';
import { KeySpace, type KeySpaceProvider } from 'nestjs-distcache';
import { DataSourceCounter } from './data-source.counter.js';
import type { Product } from './product.js';
import { ProductsRepository } from './products.repository.js';

/** Keyspace of products; the key is the product id in decimal. */
export const PRODUCTS = 'products';

/**
 * The data source of the `products` keyspace. The cache calls it on the node that owns a key, once
 * per miss for the whole cluster; `getMany` batches the misses of one owner into one `fetchMany`.
 * The TTL comes from `keySpaceDefaults` (CACHE_TTL).
 */
@KeySpace({ name: PRODUCTS, negativeTtl: '30s', readTimeout: '5s' })
@Injectable()
export class ProductsSource implements KeySpaceProvider<Product> {
  constructor(
    private readonly products: ProductsRepository,
    private readonly counter: DataSourceCounter,
  ) {}

  async fetch(key: string, _context: FetchContext): Promise<Product | undefined> {
    const product = await this.products.findById(Number(key));
    this.counter.query(product === undefined ? 0 : 1);
    return product;
  }

  async fetchMany(keys: readonly string[], _context: FetchContext): Promise<Map<string, Product>> {
    const products = await this.products.findByIds(keys.map(Number));
    this.counter.query(products.length);
    return new Map(products.map((product) => [String(product.id), product]));
  }
}
