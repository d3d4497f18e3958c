// Input at the edges of what the API accepts: values read through throwing getters or proxy traps,
// durations and instants beyond what a double or the wire's u64 holds, a tags function added while
// loads run. Each case failed before its fix (found by a review, 2026-12-02).
import { afterEach, describe, expect, it } from 'vitest';
import { isDistCacheError } from '../../src';
import { toMs } from '../../src/util/duration';
import { isRemoteError } from '../../src/errors/remote-error';
import type { DistCacheEngine } from '../../src/engine/engine';
import { rejectionOf, startedEngine, type Product } from '../support/engine.fixture';
import { ownerOf, startCluster, stopAll, type TestNode } from '../support/cluster';

let engine: DistCacheEngine | undefined;
let nodes: Array<TestNode<{ id: string; name: string }>> = [];
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  await stopAll(nodes);
  nodes = [];
});
const settle = () => new Promise((resolve) => setImmediate(resolve));

function describeError(error: unknown): string {
  return isDistCacheError(error) ? `${error.code}` : `bare ${String(error)}`;
}

describe('input at the edges', () => {
  it('tags that throw when read are refused with E_INVALID_VALUE (put option, deleteByTags, tags function on load), not a bare error', async () => {
    const hostile = new Proxy(['t'], {
      get(target, property, receiver) {
        if (property === 'length') throw new Error('length trap');
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const setup = await startedEngine({ tags: () => hostile });
    engine = setup.engine;
    const results = {
      putOption: describeError(
        await rejectionOf(engine.put('products', 'x', { id: 'x' } as unknown as Product, { tags: hostile })),
      ),
      deleteByTags: describeError(await rejectionOf(engine.deleteByTags('products', hostile))),
      loadWithTagsFunction: describeError(await rejectionOf(engine.get('products', '1'))),
    };
    expect(results).toEqual({
      putOption: 'E_INVALID_VALUE',
      deleteByTags: 'E_INVALID_VALUE',
      loadWithTagsFunction: 'E_INVALID_VALUE',
    });
  });

  it('a duration string too long for a double is refused (it parsed to Infinity)', () => {
    let outcome: unknown;
    try {
      outcome = toMs(`${'9'.repeat(400)}ms`, 'timeout');
    } catch (error) {
      outcome = describeError(error);
    }
    expect(outcome).toBe('E_INVALID_OPTION');
  });

  it('a put to a remote owner with a timeout or ttl of 2^53 ms succeeds (it failed with E_PROTOCOL)', async () => {
    nodes = await startCluster(2, [['1', { id: '1', name: 'one' }]]);
    const [a, b] = nodes as [TestNode<{ id: string; name: string }>, TestNode<{ id: string; name: string }>];
    const remoteKey = Array.from({ length: 100 }, (_, i) => `k${i}`).find(
      (key) => ownerOf(nodes, key) === b,
    )!;
    const outcome = await a.engine
      .put('products', remoteKey, { id: remoteKey, name: 'x' }, { timeout: Number.MAX_SAFE_INTEGER })
      .then(
        () => 'ok',
        (error: unknown) => `${describeError(error)}: ${(error as Error).message}`,
      );
    // A ttl of 2^53 ms and more, accepted as a duration: the put to the owner, then the owner's
    // answer to a read from the other node.
    const ttlOutcome = await a.engine
      .put('products', remoteKey, { id: remoteKey, name: 'y' }, { ttl: Number.MAX_SAFE_INTEGER })
      .then(
        () => 'ok',
        (error: unknown) => `${describeError(error)}: ${(error as Error).message}`,
      );
    const readBack = await a.engine.get<{ name: string }>('products', remoteKey).then(
      (value) => value?.name,
      (error: unknown) => `${describeError(error)}: ${(error as Error).message}`,
    );
    expect([outcome, ttlOutcome, readBack]).toEqual(['ok', 'ok', 'y']);
  });

  it('a value put on its owner with a ttl of 2^53 ms read from the other node (was undefined)', async () => {
    nodes = await startCluster(2, [['1', { id: '1', name: 'one' }]]);
    const [a, b] = nodes as [TestNode<{ id: string; name: string }>, TestNode<{ id: string; name: string }>];
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => ownerOf(nodes, k) === b)!;
    await b.engine.put('products', key, { id: key, name: 'long' }, { ttl: Number.MAX_SAFE_INTEGER });
    const read = await a.engine.get<{ name: string }>('products', key).then(
      (v) => v?.name,
      (e: unknown) => `error ${String(e)}`,
    );
    expect(read).toBe('long');
  });

  it('a tags function added by updateKeySpace detaches loads in flight, which would carry a tag a deleteByTags revoked', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    setup.source.hold();
    const first = engine.get('products', '1');
    await settle();
    await engine.deleteByTags('products', ['odd']);
    engine.updateKeySpace({ name: 'products', dataSource: setup.source, tags: () => ['odd'] });
    setup.source.release();
    await first;
    setup.source.release();
    await engine.get('products', '1');
    // Loaded before the deleteByTags(['odd']) and stored carrying 'odd': should not be kept.
    expect(setup.source.callsFor('1')).toBe(2);
  });

  it('isRemoteError does not throw on a hostile thrown value (nest callerError path)', () => {
    const trapped = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    let outcome: unknown;
    try {
      outcome = isRemoteError(trapped);
    } catch (error) {
      outcome = `threw ${String(error)}`;
    }
    expect(outcome).toBe(false);
  });
});
