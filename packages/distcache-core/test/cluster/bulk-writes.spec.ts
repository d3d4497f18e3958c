// Writes larger than what one request to an owner may carry, over real TCP between two engines in
// this process: a putMany, or concurrent puts and deletes, with more keys of one owner than the
// transport lets be in flight to it (maxInFlightPerPeer, 1024), and a deleteMany whose keys are
// over the owners' frame limit. Each used to fail part-way in a cluster only (E_TOO_MANY_REQUESTS,
// E_PROTOCOL); a standalone engine never did.
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, stopAll, type TestNode } from '../support/cluster';

let nodes: Array<TestNode<number>> = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

/** `count` keys of `length` characters that node `owner` owns, by node A's ring. */
function keysOf(owner: number, count: number, prefix: string, length = 0): string[] {
  const [a] = nodes as [TestNode<number>];
  const id = (nodes[owner] as TestNode<number>).id;
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}-${i}-`.padEnd(length, 'x');
    if ((a.engine.ownerOf('products', key) ?? a.id) === id) keys.push(key);
  }
  return keys;
}

/** What every node reads for `keys` (the data source has none of them: a key not written is undefined). */
async function readEverywhere(keys: string[]): Promise<Array<Array<number | undefined>>> {
  return Promise.all(
    nodes.map(async (node) => [...(await node.engine.getMany<number>('products', keys)).values()]),
  );
}

describe('writes with more keys of one owner than may be in flight to it', () => {
  it('putMany of 2,000 keys of another node stores every one, read alike from every node', async () => {
    nodes = await startCluster<number>(2, []);
    const keys = [...keysOf(1, 2_000, 'pm'), ...keysOf(0, 10, 'pm-local')];
    await nodes[0]!.engine.putMany(
      'products',
      keys.map((key, value) => ({ key, value })),
    );
    const expected = keys.map((_, value) => value);
    expect(await readEverywhere(keys)).toEqual([expected, expected]);
  });

  it('2,000 concurrent puts, then 2,000 concurrent deletes, of another node’s keys all succeed', async () => {
    nodes = await startCluster<number>(2, []);
    const [a] = nodes as [TestNode<number>];
    const keys = keysOf(1, 2_000, 'c');
    const puts = await Promise.allSettled(keys.map((key, value) => a.engine.put('products', key, value)));
    expect(puts.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    expect((await readEverywhere(keys))[1]).toEqual(keys.map((_, value) => value));

    const deletes = await Promise.allSettled(keys.map((key) => a.engine.delete('products', key)));
    expect(deletes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    expect(deletes.every((outcome) => outcome.status === 'fulfilled' && outcome.value)).toBe(true);
    const gone = keys.map(() => undefined);
    expect(await readEverywhere(keys)).toEqual([gone, gone]);
  });

  it('2,000 concurrent puts of one key of another node reach it in call order: the last one stays', async () => {
    nodes = await startCluster<number>(2, []);
    const [a, b] = nodes as [TestNode<number>, TestNode<number>];
    const [key] = keysOf(1, 1, 'one') as [string];
    const puts = Array.from({ length: 2_000 }, (_, value) => a.engine.put('products', key, value));
    await Promise.all(puts);
    expect(await b.engine.get('products', key)).toBe(1_999);
    expect(await a.engine.get('products', key)).toBe(1_999);
  });
});

describe('a deleteMany whose keys are over the frame limit', () => {
  it('removes every key, in several requests, and counts those that held a value', async () => {
    // 72 KiB frames (the least that leaves a keyspace 4 KiB values); 600 keys of 500 characters of
    // node B are ~300 KB. Few keys of A: its invalidation to B travels in one frame (not split here).
    nodes = await startCluster<number>(
      2,
      [],
      { maxValueBytes: 4096 },
      {
        transportOptions: { maxFrameBytes: 72 * 1024 },
      },
    );
    const [a] = nodes as [TestNode<number>];
    const remote = keysOf(1, 600, 'dm', 500);
    const local = keysOf(0, 5, 'dm-local', 500);
    const stored = [...remote.slice(0, 550), ...local.slice(0, 3)];
    await a.engine.putMany(
      'products',
      stored.map((key) => ({ key, value: 1 })),
    );
    // Every key, stored or not: the count is of those that held a value.
    expect(await a.engine.deleteMany('products', [...remote, ...local])).toBe(stored.length);
    const gone = [...remote, ...local].map(() => undefined);
    expect(await readEverywhere([...remote, ...local])).toEqual([gone, gone]);
  });
});

/**
 * A write of 600 keys of 500 characters (~300 KB of keys) of node B from A, read by C first (its
 * hot copies), then deleted: every node must still have 3 members and read nothing.
 */
async function deleteReadKeys(prefix: string): Promise<void> {
  const [a, , c] = nodes as [TestNode<number>, TestNode<number>, TestNode<number>];
  const keys = keysOf(1, 600, prefix, 500);
  await a.engine.putMany(
    'products',
    keys.map((key) => ({ key, value: 1 })),
  );
  expect([...(await c.engine.getMany<number>('products', keys)).values()]).toEqual(keys.map(() => 1));
  expect(await a.engine.deleteMany('products', keys)).toBe(keys.length);
  for (const node of nodes) expect(node.engine.stats().members).toBe(3);
  const gone = keys.map(() => undefined);
  expect(await readEverywhere(keys)).toEqual([gone, gone, gone]);
}

describe('the invalidation of a write over the frame limit', () => {
  it('reaches every other node in several requests, and nobody is taken off a ring', async () => {
    // The writer's INVALIDATE to C carried all 600 keys and went as one frame, refused by the 72 KiB
    // limit, after which the writer took every peer off its ring as if it had not acknowledged.
    nodes = await startCluster<number>(
      3,
      [],
      { maxValueBytes: 4096 },
      { transportOptions: { maxFrameBytes: 72 * 1024 } },
    );
    await deleteReadKeys('inv');
  });
});

describe('a peer that announced a smaller frame limit than the writer sizes requests by', () => {
  it('gets the invalidation of a large write in halves, and stays on the ring', async () => {
    // Node C takes frames of 72 KiB, A and B of 8 MiB: A's INVALIDATEs (up to 256 KiB of keys)
    // are over C's limit, and C owed the same refused batch for ever, off A's ring.
    nodes = await startCluster<number>(3, [], { maxValueBytes: 4096 }, (index) =>
      index === 2 ? { transportOptions: { maxFrameBytes: 72 * 1024 } } : {},
    );
    await deleteReadKeys('small');
  });
});
