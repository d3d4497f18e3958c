// Helpers for cluster tests: free loopback ports, a cluster of engines in this process, and waits
// on observable state (never on wall-clock sleeps).
import { type AddressInfo, createServer, type Server } from 'node:net';
import {
  DistCacheEngine,
  type DistCacheEngineOptions,
  type KeySpaceDefinition,
  staticDiscovery,
} from '../../src';
import { RecordingSource } from '../../src/testing';

/** Ports the OS says are free right now on 127.0.0.1. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

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
  keySpace: Partial<KeySpaceDefinition<T>> = {},
  options: Partial<DistCacheEngineOptions> = {},
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
      keySpaces: [{ name: 'products', dataSource: source, ...keySpace }],
      ...options,
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
