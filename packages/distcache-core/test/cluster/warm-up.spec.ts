// Warm-up across a real three-node cluster: warm keys loaded by their owners at start, popular keys
// handed to a joining node before its first request, taken over when a node leaves, and
// refresh-ahead done by owners only.
import { afterEach, describe, expect, it } from 'vitest';
import { DistCacheEngine, type KeySpaceDefinition, staticDiscovery } from '../../src';
import { RecordingSource } from '../../src/testing';
import { FAST_CLUSTER, freePorts, waitUntil } from '../support/cluster';

interface Node {
  name: string;
  id: string;
  engine: DistCacheEngine;
  source: RecordingSource<{ id: string }>;
}

let nodes: Node[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((node) => node.engine.stop()));
  nodes = [];
});

const data = Array.from({ length: 300 }, (_, index): [string, { id: string }] => [
  String(index),
  { id: String(index) },
]);

async function makeNodes(
  count: number,
  keySpace: Partial<KeySpaceDefinition<{ id: string }>>,
  startCount = count,
  clusterOptions: Record<string, unknown> = {},
) {
  const ports = await freePorts(count);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  nodes = ports.map((port, index) => {
    const source = new RecordingSource<{ id: string }>(data);
    return {
      name: `n${index}`,
      id: peers[index]!,
      source,
      engine: new DistCacheEngine({
        nodeName: `n${index}`,
        port,
        discovery: staticDiscovery({ peers }),
        clusterOptions: { ...FAST_CLUSTER, ...clusterOptions },
        keySpaces: [{ name: 'products', dataSource: source, ...keySpace }],
      }),
    };
  });
  await Promise.all(nodes.slice(0, startCount).map((node) => node.engine.start()));
  await waitUntil(() =>
    nodes.slice(0, startCount).every((node) => node.engine.stats().members === startCount),
  );
}

const calls = (key?: string) =>
  nodes.reduce(
    (sum, node) => sum + (key === undefined ? node.source.calls.length : node.source.callsFor(key)),
    0,
  );

describe('warm-up', () => {
  it('loads warm keys at start, each on its owner only', async () => {
    const warm = Array.from({ length: 30 }, (_, index) => String(index));
    // A quorum of 3: every node owns its final share of keys when it warms up.
    await makeNodes(3, { warmKeys: warm }, 3, { minMembers: 3 });
    await waitUntil(() => calls() >= 30, 5_000, 'warm keys loaded');
    for (const key of warm) {
      const owner = nodes.find((node) => node.id === nodes[0]!.engine.ownerOf('products', key))!;
      expect(owner.source.callsFor(key), `key ${key}`).toBe(1);
      expect(calls(key)).toBe(1);
    }
    const before = calls();
    for (const node of nodes) await node.engine.getMany('products', warm);
    expect(calls()).toBe(before);
  });

  it('hands popular keys to a joining node before its first request', async () => {
    await makeNodes(3, {}, 2);
    const [a, b, c] = nodes as [Node, Node, Node];
    const keys = data.map(([key]) => key).slice(0, 120);
    for (let round = 0; round < 3; round += 1) {
      for (const node of [a, b]) await node.engine.getMany('products', keys);
    }
    const loadedBefore = calls();
    expect(loadedBefore).toBe(120);
    await c.engine.start();
    await waitUntil(() => nodes.every((node) => node.engine.stats().members === 3), 5_000, 'join');
    const moved = keys.filter((key) => a.engine.ownerOf('products', key) === c.id);
    expect(moved.length).toBeGreaterThan(10);
    await waitUntil(() => c.engine.stats().keySpaces.products!.items >= moved.length, 5_000, 'hand-off');
    for (const key of moved) expect(await c.engine.get('products', key)).toEqual({ id: key });
    expect(c.source.calls.length).toBe(0);
    expect(calls()).toBe(loadedBefore);
    // The new owner counts what it took: each moved key once, from its previous owner.
    expect(c.engine.stats().keySpaces.products!.handOffsStored).toBe(moved.length);
  });

  it('handed-off keys keep their tags: deleteByTags removes them on the new owner', async () => {
    // Key n carries tag t<n % 2>.
    await makeNodes(3, { tags: (_value, key) => [`t${Number(key) % 2}`] }, 2);
    const [a, b, c] = nodes as [Node, Node, Node];
    const keys = data.map(([key]) => key).slice(0, 120);
    for (let round = 0; round < 3; round += 1) {
      for (const node of [a, b]) await node.engine.getMany('products', keys);
    }
    await c.engine.start();
    await waitUntil(() => nodes.every((node) => node.engine.stats().members === 3), 5_000, 'join');
    const moved = keys.filter((key) => a.engine.ownerOf('products', key) === c.id);
    await waitUntil(() => c.engine.stats().keySpaces.products!.items >= moved.length, 5_000, 'hand-off');
    expect(c.source.calls.length).toBe(0);
    await b.engine.deleteByTags('products', ['t1']);
    for (const key of moved) await c.engine.get('products', key);
    // The new owner reloads exactly the handed-off keys of tag t1 (it got them with their tags).
    const tagged = moved.filter((key) => Number(key) % 2 === 1);
    expect(tagged.length).toBeGreaterThan(0);
    expect(c.source.calls.map((call) => call.key).sort()).toEqual([...tagged].sort());
  });

  it('takes over the popular keys of a node that leaves, before the first request', async () => {
    await makeNodes(3, {});
    const [a, b, c] = nodes as [Node, Node, Node];
    const keys = data.map(([key]) => key).slice(0, 120);
    for (let round = 0; round < 3; round += 1)
      for (const node of [a, b]) await node.engine.getMany('products', keys);
    const leaving = keys.filter((key) => a.engine.ownerOf('products', key) === c.id);
    await c.engine.stop();
    await waitUntil(() => [a, b].every((node) => node.engine.stats().members === 2), 5_000, 'leave');
    await waitUntil(
      () =>
        leaving.every((key) =>
          [a, b].some(
            (node) =>
              node.id === a.engine.ownerOf('products', key) &&
              node.engine.stats().keySpaces.products!.items > 0,
          ),
        ),
      5_000,
      'takeover',
    );
    const loaded = calls();
    // Give the rebalance a moment, then read on the new owners: nothing is loaded at read time.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const settled = calls();
    for (const key of leaving) {
      const owner = [a, b].find((node) => node.id === a.engine.ownerOf('products', key))!;
      expect(await owner.engine.get('products', key)).toEqual({ id: key });
    }
    expect(calls()).toBe(settled);
    expect(settled).toBeGreaterThanOrEqual(loaded);
  });
});

describe('refresh-ahead', () => {
  it('refreshes a popular key on its owner only: about one source call per interval for the whole cluster', async () => {
    await makeNodes(3, { ttl: '1s', refreshAhead: '400ms' });
    const key = '7';
    const owner = nodes.find((node) => node.id === nodes[0]!.engine.ownerOf('products', key))!;
    const started = Date.now();
    let reads = 0;
    while (Date.now() - started < 3_200) {
      for (const node of nodes) {
        await node.engine.get('products', key);
        reads += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const total = calls(key);
    expect(owner.source.callsFor(key)).toBe(total);
    // One initial load plus one refresh per ~600 ms (ttl - refreshAhead) over 3.2 s, with slack for
    // timer granularity; without the owner-only rule it would be up to three times as many.
    expect(total).toBeGreaterThanOrEqual(3);
    expect(total).toBeLessThanOrEqual(8);
    expect(reads).toBeGreaterThan(100);
  });
});
