import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, type Database } from '../database/database.js';
import type { CategorySummary, Product, ProductPatch } from './product.js';

interface ProductRow {
  id: number;
  sku: string;
  name: string;
  category: string;
  price_cents: number;
  stock: number;
  description: string;
  updated_at: Date | string;
}

const COLUMNS = 'id, sku, name, category, price_cents, stock, description, updated_at';

const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  sku: row.sku,
  name: row.name,
  category: row.category,
  price: row.price_cents / 100,
  stock: row.stock,
  description: row.description,
  updatedAt: row.updated_at instanceof Date ? row.updated_at : new Date(row.updated_at),
});

/** The SQL of the catalogue. Knows nothing about the cache. */
@Injectable()
export class ProductsRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async findById(id: number): Promise<Product | undefined> {
    const [row] = await this.db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE id = $1`, [id]);
    return row === undefined ? undefined : toProduct(row);
  }

  async findByIds(ids: readonly number[]): Promise<Product[]> {
    const rows = await this.db.query<ProductRow>(
      `SELECT ${COLUMNS} FROM products WHERE id = ANY($1::integer[])`,
      [[...ids]],
    );
    return rows.map(toProduct);
  }

  /** Applies `patch`; `undefined` when there is no such product. */
  async update(id: number, patch: ProductPatch): Promise<Product | undefined> {
    const [row] = await this.db.query<ProductRow>(
      `UPDATE products SET
         name = COALESCE($2, name),
         price_cents = COALESCE($3, price_cents),
         stock = COALESCE($4, stock),
         description = COALESCE($5, description),
         updated_at = now()
       WHERE id = $1
       RETURNING ${COLUMNS}`,
      [
        id,
        patch.name ?? null,
        patch.price === undefined ? null : Math.round(patch.price * 100),
        patch.stock ?? null,
        patch.description ?? null,
      ],
    );
    return row === undefined ? undefined : toProduct(row);
  }

  async categorySummary(category: string): Promise<CategorySummary | undefined> {
    const [row] = await this.db.query<{
      products: number;
      in_stock: number;
      min: number;
      max: number;
      avg: number;
    }>(
      `SELECT count(*)::integer AS products, count(*) FILTER (WHERE stock > 0)::integer AS in_stock,
              min(price_cents)::integer AS min, max(price_cents)::integer AS max, avg(price_cents)::float8 AS avg
       FROM products WHERE category = $1`,
      [category],
    );
    if (row === undefined || row.products === 0) return undefined;
    return {
      category,
      products: row.products,
      inStock: row.in_stock,
      minPrice: row.min / 100,
      maxPrice: row.max / 100,
      averagePrice: Math.round(row.avg) / 100,
    };
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
