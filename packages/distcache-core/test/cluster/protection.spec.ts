// Data-source protection on a real three-node cluster (real timers: opossum keeps its own).
import { afterEach, describe, expect, it } from 'vitest';
import { type DistCacheEngine, isDistCacheError } from '../../src';
import { callsByNode, startCluster, stopAll, type TestNode } from '../support/cluster';

let nodes: Array<TestNode<{ id: string }>> = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

const data = Array.from({ length: 400 }, (_, index): [string, { id: string }] => [
  String(index),
  { id: String(index) },
]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const outcome = (engine: DistCacheEngine, key: string) =>
  engine.get<{ id: string }>('products', key).then(
    (value) => ({ value, code: undefined }),
    (error: unknown) => ({ value: undefined, code: isDistCacheError(error) ? error.code : 'OTHER' }),
  );

describe('protection across the cluster', () => {
  it("a failing source trips the owners' breakers: stale within grace, E_CIRCUIT_OPEN beyond, closed after recovery", async () => {
    nodes = await startCluster(3, data, {
      ttl: 300,
      grace: 1_500,
      readTimeout: 1_000,
      circuitBreaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeout: 2_500 },
    });
    const keys = data.slice(0, 30).map(([key]) => key);
    for (const node of nodes) await node.engine.getMany('products', keys);
    await sleep(350); // every entry is now stale, within grace
    for (const node of nodes) node.source.failWith = new Error('database down');

    // Within grace: every read on every node still gets the (stale) value.
    const withinGrace = await Promise.all(
      nodes.flatMap((node) => keys.map((key) => outcome(node.engine, key))),
    );
    expect(withinGrace.filter((result) => result.value === undefined)).toEqual([]);
    const staleServed = nodes.reduce(
      (sum, node) => sum + node.engine.stats().keySpaces.products!.staleHits,
      0,
    );
    expect(staleServed).toBeGreaterThan(0);
    const open = nodes.filter((node) => node.engine.stats().keySpaces.products!.breaker === 'open');
    expect(open.length).toBe(3);

    // Beyond grace: errors, and the open breakers answer E_CIRCUIT_OPEN without calling the source.
    await sleep(1_500);
    const callsBefore = nodes.map((node) => node.source.calls.length);
    const beyond = await Promise.all(
      nodes.flatMap((node) => keys.slice(0, 5).map((key) => outcome(node.engine, key))),
    );
    expect(beyond.every((result) => result.value === undefined)).toBe(true);
    expect(beyond.some((result) => result.code === 'E_CIRCUIT_OPEN')).toBe(true);
    expect(nodes.map((node) => node.source.calls.length)).toEqual(callsBefore);

    // Recovery: after resetTimeout a probe goes through, succeeds, and the breaker closes.
    for (const node of nodes) node.source.failWith = undefined;
    await sleep(1_200); // the breakers opened about 2.1 s ago; resetTimeout is 2.5 s
    // Half-open lets one probe through at a time, so read one by one: each owner's first read is
    // its probe, which closes its breaker; every read then succeeds.
    const recovered = [];
    for (const node of nodes) for (const key of keys) recovered.push(await outcome(node.engine, key));
    expect(recovered.filter((result) => result.value === undefined)).toEqual([]);
    expect(nodes.map((node) => node.engine.stats().keySpaces.products!.breaker)).toEqual([
      'closed',
      'closed',
      'closed',
    ]);
  });

  it('an engine-wide bucket of N/s admits at most about N/s source calls across all keyspaces', async () => {
    const perSecond = 20;
    nodes = await startCluster(3, data, {}, { sharedRateLimit: { perSecond, burst: perSecond } });
    for (const node of nodes)
      node.engine.addKeySpace<string>({ name: 'users', dataSource: (key) => `user ${key}` });
    const started = Date.now();
    const durationMs = 2_000;
    let next = 0;
    const refused: number[] = [0, 0, 0];
    const driver = async (index: number) => {
      const node = nodes[index]!;
      while (Date.now() - started < durationMs) {
        const key = String(next++ % 400);
        for (const keySpace of ['products', 'users']) {
          const error = await node.engine
            .get(keySpace, `${key}-${keySpace}-${index}`)
            .catch((e: unknown) => e);
          if (isDistCacheError(error, 'E_RATE_LIMITED')) refused[index]! += 1;
        }
        await sleep(2);
      }
    };
    await Promise.all([0, 1, 2].map(driver));
    const elapsed = (Date.now() - started) / 1_000;
    for (const [index, node] of nodes.entries()) {
      const stats = node.engine.stats().keySpaces;
      const loads = stats.products!.loads + stats.users!.loads;
      // Tolerance: the initial burst plus one second of scheduling slack.
      expect(loads, node.name).toBeLessThanOrEqual(perSecond * elapsed + perSecond + perSecond);
      expect(loads, node.name).toBeGreaterThan(perSecond);
      expect(stats.products!.loads, node.name).toBeGreaterThan(0);
      expect(stats.users!.loads, node.name).toBeGreaterThan(0);
      expect(refused[index]! + stats.products!.rateLimited + stats.users!.rateLimited).toBeGreaterThan(0);
    }
    expect(Object.values(callsByNode(nodes, '0-products-0')).length).toBe(3);
  });
});
