/** A product of the catalogue, as the API returns it and the cache stores it. */
export interface Product {
  id: number;
  sku: string;
  name: string;
  category: string;
  /** Price in euros (stored as integer cents). */
  price: number;
  stock: number;
  description: string;
  updatedAt: Date;
}

/** Fields a `PUT /products/:id` may change. */
export interface ProductPatch {
  name?: string;
  price?: number;
  stock?: number;
  description?: string;
}

/** Aggregates of one category. */
export interface CategorySummary {
  category: string;
  products: number;
  inStock: number;
  minPrice: number;
  maxPrice: number;
  averagePrice: number;
}
