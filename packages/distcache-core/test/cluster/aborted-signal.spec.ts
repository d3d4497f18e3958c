// An operation called with a signal that has already fired: it fails with E_ABORTED, starts
// nothing (no source call, no request to the owner, no write), and leaves no rejection behind that
// nobody awaits. Before, a get of a key another node owns started the read and gave up on it; when
// the owner's source then failed, that read's rejection went unobserved and ended the process.
import { afterEach, describe, expect, it } from 'vitest';
import { isDistCacheError } from '../../src';
import { ownerOf, startCluster, stopAll, type TestNode } from '../support/cluster';

let nodes: Array<TestNode<string>> = [];
const unhandled: unknown[] = [];
const record = (reason: unknown): void => void unhandled.push(reason);
afterEach(async () => {
  process.off('unhandledRejection', record);
  await stopAll(nodes);
  nodes = [];
  unhandled.length = 0;
});

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('operations called with an already aborted signal', () => {
  it('fail with E_ABORTED, start nothing anywhere, and leave no unhandled rejection', async () => {
    process.on('unhandledRejection', record);
    const data = Array.from({ length: 40 }, (_, i): [string, string] => [`k${i}`, `v${i}`]);
    // Source calls by key, on any node: a source that fails after a while, like a database that
    // is down.
    const calls = new Map<string, number>();
    nodes = await startCluster(2, data, {
      dataSource: async (key: string) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        await settle(30);
        throw new Error('database down');
      },
    });
    const [a, b] = nodes as [TestNode<string>, TestNode<string>];
    const remoteKeys = data.map(([key]) => key).filter((key) => ownerOf(nodes, key) === b);
    const localKeys = data.map(([key]) => key).filter((key) => ownerOf(nodes, key) === a);
    await a.engine.put('products', 'held', 'value');
    expect(await a.engine.get('products', 'held')).toBe('value');
    const served = (): number => b.engine.stats().keySpaces.products?.peerRequestsServed ?? 0;
    const servedBefore = served();
    const signal = AbortSignal.abort(new Error('caller went away'));
    const attempts: Array<[string, Promise<unknown>]> = [
      ['get of a remote key', a.engine.get('products', remoteKeys[0]!, { signal })],
      ['get of a local key', a.engine.get('products', localKeys[0]!, { signal })],
      ['get of a cached key', a.engine.get('products', 'held', { signal })],
      ['getMany', a.engine.getMany('products', [...remoteKeys.slice(1, 4), localKeys[1]!], { signal })],
      ['put', a.engine.put('products', remoteKeys[5]!, 'new', { signal })],
      ['delete', a.engine.delete('products', remoteKeys[6]!, { signal })],
      ['deleteByTags', a.engine.deleteByTags('products', ['t'], { signal })],
    ];
    for (const [what, attempt] of attempts) {
      const error = await attempt.then(
        () => new Error(`${what} resolved`),
        (e: unknown) => e,
      );
      expect(isDistCacheError(error, 'E_ABORTED'), `${what}: ${String(error)}`).toBe(true);
    }
    await settle(200);
    expect(unhandled).toEqual([]);
    expect([...calls]).toEqual([]);
    expect(served()).toBe(servedBefore);
    // Nothing was written: the owner still loads (and fails) on a normal read.
    await expect(a.engine.get('products', remoteKeys[5]!)).rejects.toMatchObject({
      code: 'E_DATASOURCE_FAILED',
    });
    expect([...calls]).toEqual([[remoteKeys[5], 1]]);
  });
});
