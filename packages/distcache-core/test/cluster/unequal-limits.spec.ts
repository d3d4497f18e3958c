// Nodes whose key limits differ (a rolling change of `maxKeyBytes`, or one replica configured
// apart). A removal of a key a peer cannot hold is done there by definition: before, the peer
// refused it (E_INVALID_KEY), the writer kept it as a debt no delivery could pay, and the peer
// stayed off the writer's ring for good, with every read of its keys from then on going to the
// wrong owner (an outside tester measured 38-44 stale reads of 60 and two source calls per key).
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, stopAll, type TestNode } from '../support/cluster';

let nodes: Array<TestNode<{ v: string }>> = [];

afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

/**
 * A key of `length` characters that `owner` owns, as the node with the largest limit places it
 * (`ownerOf` refuses a key over the asking node's own `maxKeyBytes`).
 */
function keyOwnedBy(owner: TestNode<unknown>, length: number): string {
  const asked = nodes[2]!.engine;
  for (let index = 0; ; index++) {
    const key = `${index}-`.padEnd(length, 'k');
    if (asked.ownerOf('products', key) === owner.id) return key;
  }
}

describe('a node with a larger maxKeyBytes than its peers', () => {
  it('writes and deletes keys only it can hold without taking its peers off its ring', async () => {
    nodes = await startCluster(3, [], {}, (index) => (index === 2 ? { maxKeyBytes: 4096 } : {}));
    const [a, b, c] = nodes as [TestNode<{ v: string }>, TestNode<{ v: string }>, TestNode<{ v: string }>];
    const long = keyOwnedBy(c, 2000);

    await c.engine.put('products', long, { v: 'long' });
    await c.engine.delete('products', `${long}-never-written`);
    await c.engine.deleteMany('products', [long, 'short-one']);

    // Every peer acknowledged every removal: nothing owed, nobody off a ring.
    for (const node of nodes) {
      expect(node.engine.stats().members).toBe(3);
      expect(node.engine.peers().filter((peer) => peer.status !== 'alive' && peer.status !== 'self')).toEqual(
        [],
      );
    }
    // And the cluster still routes every key to one owner: a write on one node is what the others read.
    for (const [writer, reader] of [
      [a, c],
      [c, b],
      [b, a],
    ] as const) {
      for (const owner of nodes) {
        const key = keyOwnedBy(owner, 8);
        await writer.engine.put('products', key, { v: `from ${writer.name}` });
        expect(await reader.engine.get('products', key)).toEqual({ v: `from ${writer.name}` });
      }
    }
  });

  it('refuses at the owner a key the owner cannot hold, and stays one cluster', async () => {
    nodes = await startCluster(3, [], {}, (index) => (index === 2 ? { maxKeyBytes: 4096 } : {}));
    const [a, , c] = nodes as [TestNode<{ v: string }>, TestNode<{ v: string }>, TestNode<{ v: string }>];
    const long = keyOwnedBy(a, 2000);
    await expect(c.engine.put('products', long, { v: 'long' })).rejects.toMatchObject({
      code: 'E_INVALID_KEY',
    });
    for (const node of nodes) expect(node.engine.stats().members).toBe(3);
  });
});
