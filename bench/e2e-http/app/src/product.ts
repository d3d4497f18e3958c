/** A catalogue product of about 1 KB, as `bench/lib/product.mjs` makes it. */
export interface Product {
  id: string;
  sku: string;
  name: string;
  description: string;
  price: { amount: number; currency: string };
  inStock: boolean;
  stock: number;
  rating: number;
  createdAt: Date;
  updatedAt: Date;
  tags: string[];
  attributes: Record<string, unknown>;
  categoryIds: number[];
  images: string[];
}

// The product generator is plain JavaScript shared by every bench scenario (bench/lib/product.mjs),
// outside this program's rootDir, so it is loaded at run time (from dist/) and typed here.
const productModule = new URL('../../../lib/product.mjs', import.meta.url).href;

/** Product number `index`: deterministic, the same bytes in every variant. */
export const makeProduct = ((await import(productModule)) as { makeProduct: (index: number) => Product })
  .makeProduct;
