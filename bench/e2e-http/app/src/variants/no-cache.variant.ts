import { Injectable } from '@nestjs/common';
import { Catalogue } from '../catalogue.js';
import type { Product } from '../product.js';
import { SimulatedDatabase } from '../simulated-database.js';
import type { VariantParts } from './variant.js';

/** No cache: every request queries the database. */
@Injectable()
export class DatabaseCatalogue extends Catalogue {
  constructor(private readonly database: SimulatedDatabase) {
    super();
  }

  override find(id: string): Promise<Product | undefined> {
    return this.database.findProduct(id);
  }
}

export function noCacheVariant(): VariantParts {
  return { imports: [], providers: [{ provide: Catalogue, useClass: DatabaseCatalogue }] };
}
