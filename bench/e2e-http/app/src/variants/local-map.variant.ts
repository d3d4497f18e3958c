import { Injectable } from '@nestjs/common';
import { Catalogue } from '../catalogue.js';
import type { Product } from '../product.js';
import { SimulatedDatabase } from '../simulated-database.js';
import type { VariantParts } from './variant.js';

/**
 * Not a cache anyone should deploy: a plain `Map` per instance, never evicted, never expired, no
 * copies, no codec. The bench offers it (`--variants=...,local-map`) as the upper bound of what any
 * cache can save on this endpoint: what is left is the cost of Nest, HTTP and the load generator.
 */
@Injectable()
export class LocalMapCatalogue extends Catalogue {
  private readonly products = new Map<string, Promise<Product | undefined>>();

  constructor(private readonly database: SimulatedDatabase) {
    super();
  }

  override find(id: string): Promise<Product | undefined> {
    let product = this.products.get(id);
    if (product === undefined) {
      product = this.database.findProduct(id);
      this.products.set(id, product);
    }
    return product;
  }
}

export function localMapVariant(): VariantParts {
  return { imports: [], providers: [{ provide: Catalogue, useClass: LocalMapCatalogue }] };
}
