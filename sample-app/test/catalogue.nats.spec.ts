import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCluster, startCluster } from '../src/cluster/cluster';

// `npm start -- --nats`: the launcher (here, the test process) starts its own nats-server on a free
// loopback port and the nodes find each other through it (no CACHE_PEERS), over in-memory PGlite.
describe('catalogue on a three-node cluster, NATS discovery', () => {
  let cluster: RunningCluster;

  beforeAll(async () => {
    cluster = await startCluster({ size: 3, seedProducts: 5_000, discovery: 'nats' });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('forms one cluster through NATS and reads each product from the database once', async () => {
    expect(cluster.natsUrl).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(cluster.natsUrl).not.toBe('nats://127.0.0.1:4222');
    for (const node of cluster.nodes) {
      const response = await fetch(`${node.url}/health`);
      const body = (await response.json()) as { info: Record<string, { status: string; members?: number }> };
      expect(response.status).toBe(200);
      expect(body.info.distcache).toMatchObject({ status: 'up', members: 3 });
    }

    const rows = async (): Promise<number[]> =>
      Promise.all(
        cluster.nodes.map(async (node) => {
          const stats = (await (await fetch(`${node.url}/stats`)).json()) as {
            dataSource: { productRows: number };
          };
          return stats.dataSource.productRows;
        }),
      );
    const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
    const before = sum(await rows());
    const id = 1_234;
    for (const node of cluster.nodes) {
      const response = await fetch(`${node.url}/products/${id}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { id: number }).id).toBe(id);
    }
    expect(sum(await rows()) - before).toBe(1);
  });
});
