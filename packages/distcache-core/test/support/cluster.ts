// Helpers for cluster tests: free loopback ports, a cluster of engines in this process, and waits
// on observable state (never on wall-clock sleeps).
import {
  DistCacheEngine,
  type DistCacheEngineOptions,
  type KeySpaceDefinition,
  staticDiscovery,
} from '../../src';
import { freePorts, RecordingSource, waitUntil } from '../../src/testing';

export { freePorts, waitUntil } from '../../src/testing';

/** Fast failure detection for tests. */
export const FAST_CLUSTER = {
  pingInterval: 50,
  pingTimeout: 200,
  failureTimeout: 600,
  discoveryInterval: 200,
} as const;

export interface TestNode<T> {
  readonly name: string;
  readonly id: string;
  readonly engine: DistCacheEngine;
  readonly source: RecordingSource<T>;
}

/**
 * Starts `size` engines on loopback that list each other with static discovery. Each node has its
 * own RecordingSource over the same data, so tests can tell which node called its source.
 */
export async function startCluster<T>(
  size: number,
  data: Iterable<[string, T]>,
  /** The keyspace's settings, the same on every node or per node (by index). */
  keySpace: Partial<KeySpaceDefinition<T>> | ((index: number) => Partial<KeySpaceDefinition<T>>) = {},
  /** Engine options, the same on every node or per node (by index). */
  options: Partial<DistCacheEngineOptions> | ((index: number) => Partial<DistCacheEngineOptions>) = {},
): Promise<Array<TestNode<T>>> {
  const ports = await freePorts(size);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  const entries = [...data];
  const nodes = ports.map((port, index) => {
    const source = new RecordingSource<T>(entries);
    const name = `node-${String.fromCharCode(97 + index)}`;
    const engine = new DistCacheEngine({
      nodeName: name,
      host: '127.0.0.1',
      port,
      discovery: staticDiscovery({ peers }),
      clusterOptions: FAST_CLUSTER,
      keySpaces: [
        {
          name: 'products',
          dataSource: source,
          ...(typeof keySpace === 'function' ? keySpace(index) : keySpace),
        },
      ],
      ...(typeof options === 'function' ? options(index) : options),
    });
    return { name, id: `127.0.0.1:${port}`, engine, source };
  });
  await Promise.all(nodes.map((node) => node.engine.start()));
  await waitUntil(() => nodes.every((node) => node.engine.stats().members === size), 10_000, 'all members');
  return nodes;
}

export async function stopAll(nodes: ReadonlyArray<TestNode<unknown>>): Promise<void> {
  await Promise.all(nodes.map((node) => node.engine.stop()));
}

/** Source calls per node name for `key`. */
export function callsByNode(nodes: ReadonlyArray<TestNode<unknown>>, key: string): Record<string, number> {
  return Object.fromEntries(nodes.map((node) => [node.name, node.source.callsFor(key)]));
}

/** The node that owns `key` according to the first node's ring (all rings agree once converged). */
export function ownerOf<T>(
  nodes: ReadonlyArray<TestNode<T>>,
  key: string,
  keySpace = 'products',
): TestNode<T> {
  const id = nodes[0]!.engine.ownerOf(keySpace, key);
  return nodes.find((node) => node.id === id)!;
}

/**
 * `perOwner` keys ("1", "2", ...) for each of `owners` distinct owners, as `ownerOf` places them.
 * Tests that assert "the owner loaded it, the others asked" pick keys this way: a fixed list of
 * keys can, for some random ports, all hash to one node, and then a node that never talked to its
 * peers would pass.
 */
export function keysOwnedByEach(ownerOf: (key: string) => string, owners: number, perOwner = 2): string[] {
  const keys: string[] = [];
  const taken = new Map<string, number>();
  for (let index = 1; keys.length < owners * perOwner && index <= 10_000; index++) {
    const key = String(index);
    const owner = ownerOf(key);
    const count = taken.get(owner) ?? 0;
    if (count < perOwner) {
      taken.set(owner, count + 1);
      keys.push(key);
    }
  }
  if (keys.length < owners * perOwner) throw new Error(`the ring has fewer than ${owners} owners`);
  return keys;
}
