// Three replicas in child processes, each with @nestjs/cache-manager's CacheModule on the
// distcache Keyv store and CacheInterceptor on a controller: a URL's handler runs once for the
// whole cluster, and an eviction on one replica is seen by all.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ChildCluster,
  type ChildNode,
  getJson,
  post,
  startChildCluster,
  stopChildCluster,
} from './support/child-cluster';
import { FAST_CLUSTER, waitUntil } from './support/net';

const main = fileURLToPath(new URL('./support/http-cache.main.ts', import.meta.url));

let cluster: ChildCluster | undefined;
afterEach(async () => {
  if (cluster !== undefined) await stopChildCluster(cluster);
  cluster = undefined;
});

async function runs(nodes: readonly ChildNode[], id: string): Promise<number[]> {
  return Promise.all(
    nodes.map(async (node) => (await getJson<{ count: number }>(node, `/admin/runs/${id}`)).count),
  );
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** CacheInterceptor stores after answering: wait until `node` sees the entry. */
async function cachedOn(node: ChildNode, url: string): Promise<void> {
  await waitUntil(
    async () =>
      (await getJson<{ cached: boolean }>(node, `/admin/cached?key=${encodeURIComponent(url)}`)).cached,
    15_000,
    `${url} cached as seen from ${node.name}`,
  );
}

describe('@nestjs/cache-manager with KeyvDistCache on three replicas', () => {
  it('CacheInterceptor runs each handler once per URL cluster-wide; an eviction is seen everywhere', async () => {
    cluster = await startChildCluster(3, FAST_CLUSTER, main);
    const nodes = cluster.nodes;
    for (const [index, id] of ['1', '2', '3', '4', '5', '6'].entries()) {
      const first = nodes[index % 3]!;
      const answer = await getJson<{ node: string; run: number }>(first, `/items/${id}`);
      expect(answer).toEqual({ id, node: first.name, run: 1 });
      for (const node of nodes) await cachedOn(node, `/items/${id}`);
      for (const node of nodes) {
        const response = await fetch(`${node.url}/items/${id}`);
        expect(response.headers.get('x-cache')).toBe('HIT');
        // Every replica answers with what the first one computed.
        expect(await response.json()).toEqual(answer);
      }
      expect(await runs(nodes, id)).toEqual(nodes.map((node) => (node === first ? 1 : 0)));
    }

    // Evict on C: A and B miss next, and exactly one more handler run happens for the URL.
    expect(await post(nodes[2]!, '/admin/evict/1')).toBe(204);
    for (const node of nodes) {
      expect(
        (await getJson<{ cached: boolean }>(node, `/admin/cached?key=${encodeURIComponent('/items/1')}`))
          .cached,
      ).toBe(false);
    }
    const again = await getJson<{ node: string; run: number }>(nodes[1]!, '/items/1');
    expect(again.node).toBe(nodes[1]!.name);
    for (const node of nodes) await cachedOn(node, '/items/1');
    for (const node of nodes) expect(await getJson(node, '/items/1')).toEqual(again);
    expect(sum(await runs(nodes, '1'))).toBe(2);
  }, 90_000);
});
