// Three catalogue apps in three child processes. The parent only speaks HTTP to them, and stops
// one with SIGTERM as an orchestrator would (the apps call enableShutdownHooks()).
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ChildCluster,
  type ChildNode,
  getJson,
  post,
  startChildCluster,
  stopChildCluster,
} from './support/child-cluster';
import { FAST_CLUSTER, SLOW_FAILURE_DETECTION, waitUntil } from './support/net';

let cluster: ChildCluster | undefined;
afterEach(async () => {
  if (cluster !== undefined) await stopChildCluster(cluster);
  cluster = undefined;
});

async function callsOf(
  nodes: readonly ChildNode[],
  method: string,
  arg: string,
): Promise<Record<string, number>> {
  const counts = await Promise.all(
    nodes.map((node) => getJson<{ count: number }>(node, `/calls/${method}/${arg}`)),
  );
  return Object.fromEntries(nodes.map((node, index) => [node.name, counts[index]!.count]));
}

async function owner(nodes: readonly ChildNode[], key: string): Promise<ChildNode> {
  const { owner: id } = await getJson<{ owner: string }>(nodes[0]!, `/owner/products/${key}`);
  return nodes.find((node) => node.id === id)!;
}

const sum = (counts: Record<string, number>) =>
  Object.values(counts).reduce((total, count) => total + count, 0);

describe('three Nest apps in child processes', () => {
  it('concurrent HTTP reads on all three run the @ReadThrough body once, on the owner; Dates stay Dates; @CacheEvict on A makes B reload', async () => {
    cluster = await startChildCluster(3, FAST_CLUSTER);
    const nodes = cluster.nodes;
    const [a, b] = nodes as [ChildNode, ChildNode];
    for (const node of nodes) expect(await post(node, '/gate/close')).toBe(204);
    const reads = nodes.flatMap((node) =>
      Array.from({ length: 5 }, () => getJson<Record<string, unknown>>(node, '/products/9')),
    );
    await waitUntil(
      async () => sum(await callsOf(nodes, 'find', '9')) === 1,
      15_000,
      'the owner to start its load',
    );
    for (const node of nodes) await post(node, '/gate/open');
    const answers = await Promise.all(reads);
    for (const answer of answers)
      expect(answer).toMatchObject({ id: '9', name: 'Product 9', updatedAtIsDate: true });
    const ownerNode = await owner(nodes, '9');
    expect(await callsOf(nodes, 'find', '9')).toEqual(
      Object.fromEntries(nodes.map((node) => [node.name, node === ownerNode ? 1 : 0])),
    );

    expect(await post(a, '/products/9/name', { name: 'Renamed in process A' })).toBe(204);
    expect(await getJson(b, '/products/9')).toMatchObject({
      name: 'Renamed in process A',
      updatedAtIsDate: true,
    });
    expect(sum(await callsOf(nodes, 'find', '9'))).toBe(2);
    expect((await callsOf(nodes, 'find', '9'))[ownerNode.name]).toBe(2);

    const health = await fetch(`${b.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      details: { distcache: { status: 'up', members: 3, quorum: true } },
    });
  });

  it('a NotFoundException thrown by a @ReadThrough method is a 404 for callers on every node; another error keeps its message', async () => {
    cluster = await startChildCluster(3, FAST_CLUSTER);
    const nodes = cluster.nodes;
    const { owner: ownerId } = await getJson<{ owner: string }>(nodes[0]!, '/owner/strict/x1');
    const ownerNode = nodes.find((node) => node.id === ownerId)!;
    const notFound = {
      message: 'Product x1 not found',
      error: 'Not Found',
      statusCode: 404,
    };
    for (const node of nodes) {
      const response = await fetch(`${node.url}/strict/x1`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual(notFound);
      expect(await getJson(node, '/strict/x1/caught')).toEqual({
        httpException: true,
        status: 404,
        response: notFound,
        name: 'NotFoundException',
        message: 'Product x1 not found',
      });
    }
    // Errors are not cached: every call ran the method, always on the owner.
    expect(await callsOf(nodes, 'strict', 'x1')).toEqual(
      Object.fromEntries(nodes.map((node) => [node.name, node === ownerNode ? 6 : 0])),
    );

    const { owner: downOwner } = await getJson<{ owner: string }>(nodes[0]!, '/owner/strict/down-1');
    for (const node of nodes) {
      const response = await fetch(`${node.url}/strict/down-1`);
      expect(response.status).toBe(500);
      expect(await getJson(node, '/strict/down-1/caught')).toMatchObject({
        httpException: false,
        name: 'DatabaseError',
        message: 'database unavailable for down-1',
        code: 'EDATABASE',
      });
    }
    const downCalls = await callsOf(nodes, 'strict', 'down-1');
    expect(downCalls[nodes.find((node) => node.id === downOwner)!.name]).toBe(6);
    expect(sum(downCalls)).toBe(6);
    // A found product is cached as usual.
    for (const node of nodes) expect(await getJson(node, '/strict/5/caught')).toMatchObject({ id: '5' });
    expect(sum(await callsOf(nodes, 'strict', '5'))).toBe(1);
  }, 90_000);

  it('SIGTERM on one process: it leaves gracefully and the others drop it at once', async () => {
    cluster = await startChildCluster(3, SLOW_FAILURE_DETECTION);
    const [a, b, c] = cluster.nodes as [ChildNode, ChildNode, ChildNode];
    c.process.kill('SIGTERM');
    // With a 20 s failure timeout, only the leave notice explains a removal within 10 s, and only it
    // gives the status 'left' (a failed peer is 'pending'). No tighter deadline: the suite runs
    // beside the others on two cores.
    await waitUntil(
      async () =>
        (await Promise.all([a, b].map((node) => getJson<{ members: number }>(node, '/cluster')))).every(
          (view) => view.members === 2,
        ),
      10_000,
      'c to be dropped',
    );
    // Nest re-raises the signal once app.close() finished, so the process ends by SIGTERM.
    expect(await c.exited).toEqual({ code: null, signal: 'SIGTERM' });
    for (const node of [a, b]) {
      const view = await getJson<{ peers: Record<string, string> }>(node, '/cluster');
      expect(view.peers[c.id]).toBe('left');
    }
    expect(await getJson(a, '/products/3')).toMatchObject({ id: '3' });
  });
});
