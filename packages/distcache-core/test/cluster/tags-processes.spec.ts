// Tag invalidation across three node processes (issue #16's acceptance): which process called its
// data source after a deleteByTags, and how often, for every key.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, type NodeProcess, startProcessCluster } from '../support/process-cluster';

let nodes: NodeProcess[] = [];
afterEach(async () => {
  await killAll(nodes);
  nodes = [];
});

const KEYS = Array.from({ length: 30 }, (_, index) => String(index));

/** Data-source calls per key, summed over every process, and per process. */
async function calls(): Promise<{ total: Record<string, number>; byNode: Array<Record<string, number>> }> {
  const byNode = await Promise.all(nodes.map((node) => node.call<Record<string, number>>('calls')));
  const total: Record<string, number> = {};
  for (const counts of byNode)
    for (const [key, n] of Object.entries(counts)) total[key] = (total[key] ?? 0) + n;
  return { total, byNode };
}

async function readEverywhere(keys: readonly string[]): Promise<void> {
  for (const node of nodes) for (const key of keys) await node.call('get', { key });
}

describe('tags across three processes', () => {
  it('deleteByTags on the third node: every node reloads exactly the 10 tagged keys, once cluster-wide', async () => {
    // Key n carries tag t<n % 3>: 10 keys per tag.
    nodes = await startProcessCluster(3, { tagsByKeyMod: 3, keySpace: { ttl: '5m' } });
    await readEverywhere(KEYS);
    const before = await calls();
    expect(KEYS.map((key) => before.total[key])).toEqual(KEYS.map(() => 1));
    const hitsBefore = await Promise.all(nodes.map((node) => node.call<{ hits: number }>('stats')));

    // The database changes for every key: a node that reads version 1 loaded it again, version 0
    // came from a cache (an owned entry or a hot copy).
    for (const node of nodes)
      for (const key of KEYS) await node.call('setDatabase', { key, value: { id: key, version: 1 } });
    await nodes[2]!.call('deleteByTags', { tags: ['t1'] });
    for (const node of nodes) {
      for (const key of KEYS) {
        const expected = Number(key) % 3 === 1 ? 1 : 0;
        expect(await node.call('get', { key }), `${node.name} ${key}`).toEqual({
          id: key,
          version: expected,
        });
      }
    }

    const after = await calls();
    const tagged = KEYS.filter((key) => Number(key) % 3 === 1);
    expect(tagged).toHaveLength(10);
    for (const key of KEYS) expect(after.total[key]).toBe(tagged.includes(key) ? 2 : 1);
    // Each reload happened on one process only (the owner), and only there.
    for (const key of tagged) {
      const reloaded = after.byNode.filter(
        (counts, index) => (counts[key] ?? 0) > (before.byNode[index]![key] ?? 0),
      );
      expect(reloaded).toHaveLength(1);
    }
    // The other 20 keys were hits on every node: 20 more hits each, at least.
    const hitsAfter = await Promise.all(
      nodes.map((node) => node.call<{ hits: number; tagInvalidations: number }>('stats')),
    );
    hitsAfter.forEach((stats, index) => {
      expect(stats.hits - hitsBefore[index]!.hits).toBeGreaterThanOrEqual(20);
      // At least once: the request buffered while it was stopped may arrive besides the repair.
      expect(stats.tagInvalidations).toBeGreaterThanOrEqual(1);
    });
  });

  it('a put with explicit tags is removed by those tags on every node', async () => {
    nodes = await startProcessCluster(3, { keySpace: { ttl: '5m' } });
    await nodes[0]!.call('putTagged', { key: '500', value: { id: '500', version: 9 }, tags: ['promo'] });
    for (const node of nodes)
      expect(await node.call('get', { key: '500' })).toEqual({ id: '500', version: 9 });
    expect((await calls()).total['500']).toBeUndefined();

    await nodes[1]!.call('deleteByTags', { tags: ['promo'] });
    for (const node of nodes)
      expect(await node.call('get', { key: '500' })).toEqual({ id: '500', version: 0 });
    expect((await calls()).total['500']).toBe(1);
  });

  it('a node that missed a deleteByTags (SIGSTOP) gets it before it is routed to again', async () => {
    nodes = await startProcessCluster(3, {
      tagsByKeyMod: 3,
      keySpace: { ttl: '5m' },
      clusterOptions: { pingInterval: 100, failureTimeout: 1_500 },
    });
    const [a, , frozen] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await readEverywhere(KEYS);
    for (const node of nodes)
      for (const key of KEYS) await node.call('setDatabase', { key, value: { id: key, version: 1 } });
    frozen.child.kill('SIGSTOP');
    await a.call('deleteByTags', { tags: ['t2'] });
    frozen.child.kill('SIGCONT');
    // Routed to again only once it answers pings, which it does after pulling what it missed.
    const deadline = Date.now() + 10_000;
    while ((await a.call<string[]>('memberIds')).length !== 3) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const node of nodes) {
      for (const key of KEYS.filter((k) => Number(k) % 3 === 2)) {
        expect(await node.call('get', { key }), `${node.name} ${key}`).toEqual({ id: key, version: 1 });
      }
    }
    const stats = await frozen.call<{ tagInvalidations: number }>('stats');
    // At least once: the request buffered while it was stopped may arrive besides the repair.
    expect(stats.tagInvalidations).toBeGreaterThanOrEqual(1);
  });
});
