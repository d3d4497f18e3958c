// KeyvDistCache across three engines over real TCP: what one replica's Keyv writes, the others
// read; delete and clear on one are seen by all; the store refuses a keyspace that is not its own.
import Keyv from 'keyv';
import { afterEach, describe, expect, it } from 'vitest';
import { isDistCacheError } from '../../src';
import { KeyvDistCache } from '../../src/keyv';
import { startCluster, stopAll, type TestNode } from '../support/cluster';

let nodes: Array<TestNode<unknown>> = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

const keyvs = (namespace?: string) =>
  nodes.map((node) => new Keyv({ store: new KeyvDistCache(node.engine, { keySpace: 'http' }), namespace }));

describe('KeyvDistCache in a cluster', () => {
  it('a value set through one replica is read by every other; delete and clear reach all', async () => {
    nodes = await startCluster(3, []);
    const [a, b, c] = keyvs() as [Keyv, Keyv, Keyv];
    const keys = Array.from({ length: 12 }, (_, index) => `/items/${index}`);
    for (const key of keys) await a.set(key, { key, at: new Date(0).toISOString() }, 60_000);
    for (const key of keys) {
      expect(await b.get(key)).toEqual({ key, at: '1970-01-01T00:00:00.000Z' });
      expect(await c.get(key)).toEqual({ key, at: '1970-01-01T00:00:00.000Z' });
    }
    // Entries live on their owners, spread over the three nodes, not copied to every node.
    const owned = nodes.map(
      (node) => node.engine.stats().keySpaces.http!.items - node.engine.stats().keySpaces.http!.hotItems,
    );
    expect(owned.filter((count) => count > 0).length).toBeGreaterThan(1);

    expect(await c.delete(keys[0]!)).toBe(true);
    expect(await a.get(keys[0]!)).toBeUndefined();
    expect(await b.get(keys[0]!)).toBeUndefined();
    expect(await c.delete(keys[0]!)).toBe(false);

    await b.clear();
    for (const keyv of [a, b, c])
      expect(await keyv.get(keys.slice(1))).toEqual(keys.slice(1).map(() => undefined));
  });

  it('clear() of one namespace leaves the others on every node', async () => {
    nodes = await startCluster(3, []);
    const first = keyvs('first');
    const second = keyvs('second');
    await first[0]!.set('k', 'one');
    await second[0]!.set('k', 'two');
    await first[1]!.clear();
    for (let index = 0; index < 3; index += 1) {
      expect(await first[index]!.get('k')).toBeUndefined();
      expect(await second[index]!.get('k')).toBe('two');
    }
  });

  it('refuses a keyspace that is not its own', async () => {
    nodes = await startCluster(3, []);
    let error: unknown;
    try {
      new KeyvDistCache(nodes[0]!.engine, { keySpace: 'products' });
    } catch (caught) {
      error = caught;
    }
    expect(isDistCacheError(error, 'E_KEYSPACE_EXISTS')).toBe(true);
  });
});
