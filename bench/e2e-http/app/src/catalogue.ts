import type { Product } from './product.js';

/**
 * What the controller reads products through. Each variant provides its own implementation (the
 * database directly, or a cache in front of it); the controller is the same for all four.
 */
export abstract class Catalogue {
  abstract find(id: string): Promise<Product | undefined>;
}
