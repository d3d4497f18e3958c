// A putMany whose keys have several owners, one of which refuses its part: the call
// rejects, and the keys the other owners did write are still invalidated on every node before it
// settles, so no node keeps serving a hot copy of a value that was replaced. Three engines in one
// process over real TCP; node C refuses its share because its keyspace allows smaller values.
import { afterEach, describe, expect, it } from 'vitest';
import { isDistCacheError } from '../../src';
import { ownerOf, startCluster, stopAll, type TestNode } from '../support/cluster';

interface Product {
  id: string;
  name: string;
}
const catalogue = Array.from({ length: 300 }, (_, index): [string, Product] => [
  String(index),
  { id: String(index), name: `Product ${index}` },
]);

let nodes: Array<TestNode<Product>> = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

/** One key owned by each node, in node order. */
function oneKeyPerOwner(): string[] {
  return nodes.map((node) => catalogue.map(([key]) => key).find((key) => ownerOf(nodes, key) === node)!);
}

/** Node C keeps its keyspace but allows only small values, so it refuses a big SET from a peer. */
function shrinkValuesOn(node: TestNode<Product>): void {
  node.engine.updateKeySpace<Product>({ name: 'products', dataSource: node.source, maxValueBytes: 64 });
}

describe('a multi-owner write that one owner refuses', () => {
  it('putMany rejects, and the values the other owners stored are seen by every node at once', async () => {
    nodes = await startCluster(3, catalogue);
    const [keyA, keyB, keyC] = oneKeyPerOwner() as [string, string, string];
    // Every node holds every key: owned entries on the owners, hot copies elsewhere.
    for (const node of nodes) for (const key of [keyA, keyB, keyC]) await node.engine.get('products', key);
    const [a, , c] = nodes as [TestNode<Product>, TestNode<Product>, TestNode<Product>];
    shrinkValuesOn(c);

    const write = a.engine.putMany<Product>('products', [
      { key: keyA, value: { id: keyA, name: 'new A' } },
      { key: keyB, value: { id: keyB, name: 'new B' } },
      { key: keyC, value: { id: keyC, name: `new C ${'x'.repeat(200)}` } },
    ]);
    const error = await write.catch((e: unknown) => e);
    expect(isDistCacheError(error, 'E_VALUE_TOO_LARGE')).toBe(true);

    for (const node of nodes) {
      expect((await node.engine.get<Product>('products', keyA))?.name).toBe('new A');
      expect((await node.engine.get<Product>('products', keyB))?.name).toBe('new B');
      // C refused its part: every node still reads C's old value, and no node wrote the new one.
      expect((await node.engine.get<Product>('products', keyC))?.name).toBe(`Product ${keyC}`);
    }
  });
});
