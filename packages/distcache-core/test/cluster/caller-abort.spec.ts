// A write whose caller stops waiting (its signal aborted, a short timeout) is the caller's
// business: it must not make the writer take a healthy peer off its ring. Before the fix the
// invalidation broadcast ran on the caller's signal and timeout; an aborted one counted as "the
// peer did not acknowledge", the writer dropped the peer, and until it came back the two nodes
// disagreed on owners: a put on A resolved and B went on reading its data source. Two engines in
// one process over real TCP.
import { afterEach, describe, expect, it } from 'vitest';
import { isDistCacheError } from '../../src';
import { ownerOf, startCluster, stopAll, type TestNode } from '../support/cluster';

interface Product {
  id: string;
  name: string;
}
const catalogue = Array.from({ length: 100 }, (_, index): [string, Product] => [
  String(index),
  { id: String(index), name: `Product ${index}` },
]);

let nodes: Array<TestNode<Product>> = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

/** Puts through `writer` keys owned by `reader`, and reads each at once on `reader`. */
async function readsAfterPuts(writer: TestNode<Product>, reader: TestNode<Product>): Promise<string[]> {
  const keys = catalogue.map(([key]) => key).filter((key) => ownerOf(nodes, key) === reader);
  const stale: string[] = [];
  for (const key of keys.slice(0, 10)) {
    await writer.engine.put<Product>('products', key, { id: key, name: 'written' });
    const read = await reader.engine.get<Product>('products', key);
    if (read?.name !== 'written') stale.push(key);
  }
  return stale;
}

describe('a write whose caller gives up', () => {
  const giveUps = {
    'put with an aborted signal': (node: TestNode<Product>, key: string) =>
      node.engine.put<Product>('products', key, { id: key, name: 'x' }, { signal: AbortSignal.abort() }),
    'delete with an aborted signal': (node: TestNode<Product>, key: string) =>
      node.engine.delete('products', key, { signal: AbortSignal.abort() }),
    'put whose signal aborts while it runs (the client went away)': (
      node: TestNode<Product>,
      key: string,
    ) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 0);
      return node.engine.put<Product>('products', key, { id: key, name: 'x' }, { signal: controller.signal });
    },
    'put with timeout 0': (node: TestNode<Product>, key: string) =>
      node.engine.put<Product>('products', key, { id: key, name: 'x' }, { timeout: 0 }),
    'deleteByTags with an aborted signal': (node: TestNode<Product>) =>
      node.engine.deleteByTags('products', ['t'], { signal: AbortSignal.abort() }),
  };
  for (const [name, giveUp] of Object.entries(giveUps)) {
    it(`${name} keeps the peer on the writer's ring, and the next writes are read on the peer`, async () => {
      nodes = await startCluster(2, catalogue);
      const [a, b] = nodes as [TestNode<Product>, TestNode<Product>];
      const ownKey = catalogue.map(([key]) => key).find((key) => ownerOf(nodes, key) === a)!;
      const left: string[] = [];
      a.engine.on('peer', (event) => {
        if (event.type === 'left') left.push(event.peer.id);
      });

      const outcome = await giveUp(a, ownKey).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (outcome !== undefined) {
        expect(isDistCacheError(outcome, 'E_ABORTED') || isDistCacheError(outcome, 'E_TIMEOUT')).toBe(true);
      }

      expect(a.engine.stats().members).toBe(2);
      expect(await readsAfterPuts(a, b)).toEqual([]);
      expect(left).toEqual([]);
    });
  }
});
