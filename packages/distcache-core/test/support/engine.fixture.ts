import type { KeySpaceDefinition } from '../../src/keyspace/keyspace.options';
import { ManualClock } from '../../src/testing/manual-clock';
import { RecordingSource } from '../../src/testing/recording-source';
import { DistCacheEngine } from '../../src/engine/engine';
import type { DistCacheEngineOptions } from '../../src/engine/engine.options';

/** A product as the tests' data source serves it. */
export interface Product {
  id: string;
  name: string;
  price: number;
  updatedAt: Date;
  tags: Set<string>;
}

export function product(id: string): Product {
  return {
    id,
    name: `Product ${id}`,
    price: Number(id) * 1.5,
    updatedAt: new Date(Date.UTC(2026, 0, (Number(id) % 28) + 1)),
    tags: new Set(['a']),
  };
}

/** A started engine with one `products` keyspace over a recording source, and a manual clock. */
export async function startedEngine(
  keySpace: Partial<KeySpaceDefinition<Product>> = {},
  options: DistCacheEngineOptions = {},
): Promise<{ engine: DistCacheEngine; source: RecordingSource<Product>; clock: ManualClock }> {
  const clock = new ManualClock();
  const source = new RecordingSource<Product>(['1', '2', '3', '4', '5'].map((id) => [id, product(id)]));
  const engine = new DistCacheEngine({
    clock,
    keySpaces: [{ name: 'products', dataSource: source, ...keySpace }],
    ...options,
  });
  await engine.start();
  return { engine, source, clock };
}

/** The rejection of `promise`, or a failure when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}
