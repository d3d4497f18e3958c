import { afterEach, describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import { settle } from '../testing/manual-clock';
import type { DistCacheEngine } from './engine';
import { type Product, product, rejectionOf, startedEngine } from '../../test/support/engine.fixture';

let engine: DistCacheEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe('read-through get', () => {
  it('loads a miss from the data source once, then serves hits from the cache', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    expect(await engine.get<Product>('products', '1')).toEqual(product('1'));
    expect(await engine.get<Product>('products', '1')).toEqual(product('1'));
    expect(setup.source.callsFor('1')).toBe(1);
    const stats = engine.stats().keySpaces.products!;
    expect(stats).toMatchObject({ gets: 2, hits: 1, misses: 1, loads: 1, items: 1, hitRatio: 0.5 });
    expect(stats.bytes).toBeGreaterThan(0);
  });

  it('returns Dates as Dates and Sets as Sets', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.get('products', '2');
    const value = (await engine.get<Product>('products', '2'))!;
    expect(value.updatedAt).toBeInstanceOf(Date);
    expect(value.tags).toBeInstanceOf(Set);
  });

  it('resolves undefined for a key the source does not have, without an error', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    expect(await engine.get('products', 'missing')).toBeUndefined();
    expect(engine.stats().keySpaces.products!.loadErrors).toBe(0);
  });

  it('calls the source once for many concurrent misses of one key (single-flight)', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    setup.source.hold();
    const reads = Array.from({ length: 100 }, () => engine!.get<Product>('products', '3'));
    await settle();
    setup.source.release();
    const values = await Promise.all(reads);
    expect(values.every((value) => value?.id === '3')).toBe(true);
    expect(setup.source.callsFor('3')).toBe(1);
    expect(engine.stats().keySpaces.products).toMatchObject({ loads: 1, dedupedLoads: 99 });
  });

  it('lets a caller abort its wait without cancelling the load for the others', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    setup.source.hold();
    const controller = new AbortController();
    const impatient = engine.get('products', '4', { signal: controller.signal });
    const patient = engine.get<Product>('products', '4');
    await settle();
    controller.abort(new Error('user went away'));
    const error = await rejectionOf(impatient);
    expect(isDistCacheError(error, 'E_ABORTED')).toBe(true);
    expect((error as Error).cause).toEqual(new Error('user went away'));
    expect(setup.source.calls[0]!.signal.aborted).toBe(false);
    setup.source.release();
    expect((await patient)?.id).toBe('4');
    expect(await engine.get<Product>('products', '4')).toBeDefined();
    expect(setup.source.callsFor('4')).toBe(1);
  });

  it('rejects at once with E_ABORTED for an already aborted signal', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    setup.source.hold();
    const error = await rejectionOf(engine.get('products', '1', { signal: AbortSignal.abort() }));
    expect(isDistCacheError(error, 'E_ABORTED')).toBe(true);
    setup.source.release();
  });

  it('returns values that callers cannot change for the next caller (frozen mode)', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    const first = (await engine.get<Product>('products', '1'))!;
    expect(() => {
      first.name = 'changed';
    }).toThrow(TypeError);
    expect(() => first.tags.add('b')).toThrow(/read-only/);
    expect(() => first.updatedAt.setFullYear(1999)).toThrow(/read-only/);
    const second = (await engine.get<Product>('products', '1'))!;
    expect(second.name).toBe('Product 1');
    expect([...second.tags]).toEqual(['a']);
  });

  it('does not keep the object the data source returned', async () => {
    const shared = { id: 's', list: [1] };
    const setup = await startedEngine({ dataSource: () => shared as unknown as Product });
    engine = setup.engine;
    await engine.get('products', 's');
    shared.list.push(2);
    expect(await engine.get('products', 's')).toEqual({ id: 's', list: [1] });
  });

  it('hands each caller a private mutable copy in copy mode', async () => {
    const setup = await startedEngine({ valueMode: 'copy' });
    engine = setup.engine;
    const first = (await engine.get<Product>('products', '1'))!;
    first.name = 'changed';
    first.tags.add('b');
    const second = (await engine.get<Product>('products', '1'))!;
    expect(second.name).toBe('Product 1');
    expect(second).not.toBe(first);
  });

  it('copies values holding Buffers on every read, since they cannot be frozen', async () => {
    const setup = await startedEngine({
      dataSource: () => ({ blob: Buffer.from('abc') }) as unknown as Product,
    });
    engine = setup.engine;
    const first = (await engine.get<{ blob: Buffer }>('products', 'b'))!;
    first.blob[0] = 0x7a;
    const second = (await engine.get<{ blob: Buffer }>('products', 'b'))!;
    expect(second.blob.toString()).toBe('abc');
  });

  it("charges the budget for the decoded value once read in 'frozen' mode, and the bytes in 'copy' mode", async () => {
    const text = { id: 't', body: 'lorem ipsum '.repeat(200) } as unknown as Product;
    const frozen = await startedEngine({ dataSource: () => text });
    const copy = await startedEngine({ dataSource: () => text, valueMode: 'copy' });
    try {
      // A value of this shape read first: the first read of a key set new to the process also pays
      // for its hidden classes and key strings (HeapTally.newKeys), which is not what this checks.
      await frozen.engine.get('products', 'another');
      const another = frozen.engine.stats().keySpaces.products!.bytes;
      await frozen.engine.put('products', 't', text);
      await copy.engine.put('products', 't', text);
      const bytes = frozen.engine.stats().keySpaces.products!.bytes - another;
      expect(copy.engine.stats().keySpaces.products!.bytes).toBe(bytes);
      await frozen.engine.get('products', 't');
      await copy.engine.get('products', 't');
      // The decoded 2,400-character string is held instead of its 2,4xx encoded bytes: a 16 B
      // string header either way, so the charge moves a little, and is still that of one entry.
      const decoded = frozen.engine.stats().keySpaces.products!.bytes - another;
      expect(decoded).not.toBe(bytes);
      expect(Math.abs(decoded - bytes)).toBeLessThan(200);
      expect(copy.engine.stats().keySpaces.products!.bytes).toBe(bytes);
    } finally {
      await frozen.engine.stop();
      await copy.engine.stop();
    }
  });
});

describe('getMany', () => {
  it('returns one entry per distinct key in request order, loading only the misses', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.get('products', '2');
    const result = await engine.getMany<Product>('products', ['3', '2', 'nope', '3']);
    expect([...result.keys()]).toEqual(['3', '2', 'nope']);
    expect(result.get('3')?.id).toBe('3');
    expect(result.get('nope')).toBeUndefined();
    expect(setup.source.callsFor('2')).toBe(1);
    expect(setup.source.calls).toHaveLength(3);
  });

  it('loads all misses in one fetchMany call when the source has one', async () => {
    const batches: string[][] = [];
    const fetchOne: string[] = [];
    const setup = await startedEngine({
      dataSource: {
        fetch: (key) => {
          fetchOne.push(key);
          return product(key);
        },
        fetchMany: (keys) => {
          batches.push([...keys]);
          return new Map(keys.filter((key) => key !== '9').map((key) => [key, product(key)]));
        },
      },
    });
    engine = setup.engine;
    const result = await engine.getMany<Product>('products', ['1', '2', '9']);
    expect(batches).toEqual([['1', '2', '9']]);
    expect(fetchOne).toEqual([]);
    expect(result.get('2')?.id).toBe('2');
    expect(result.get('9')).toBeUndefined();
    expect(engine.stats().keySpaces.products).toMatchObject({ loads: 1, items: 2 });
    await engine.getMany('products', ['1', '2']);
    expect(batches).toHaveLength(1);
  });

  it('a fetchMany that returns an array fails each key with E_DATASOURCE_FAILED saying to return a Map', async () => {
    const setup = await startedEngine({
      dataSource: {
        fetch: (key) => product(key),
        fetchMany: (keys) => keys.map((key) => product(key)) as unknown as Map<string, Product>,
      },
    });
    engine = setup.engine;
    const error = await engine.getMany<Product>('products', ['1', '2']).catch((e: unknown) => e);
    expect(isDistCacheError(error, 'E_DATASOURCE_FAILED')).toBe(true);
    expect((error as Error).message).toBe(
      'Data source of keyspace "products" failed for key "2 keys": fetchMany must resolve to a Map of key to ' +
        'value (keys absent from it are "not found"), not an array: e.g. new Map(rows.map((row) => [row.id, row]))',
    );
    // Nothing was stored, and the keyspace still serves reads.
    expect(engine.stats().keySpaces.products).toMatchObject({ items: 0 });
    expect((await engine.get<Product>('products', '1'))?.id).toBe('1');
  });

  it('rejects with the failing key error after every key settled', async () => {
    const setup = await startedEngine({
      dataSource: (key) => {
        if (key === 'bad') throw new Error('row is corrupt');
        return product(key);
      },
    });
    engine = setup.engine;
    const error = await rejectionOf(engine.getMany('products', ['1', 'bad']));
    expect(isDistCacheError(error, 'E_DATASOURCE_FAILED')).toBe(true);
    expect(engine.stats().keySpaces.products!.items).toBe(1);
  });
});

describe('timeouts', () => {
  it('aborts the data source signal at the read timeout and rejects with E_DATASOURCE_TIMEOUT', async () => {
    const setup = await startedEngine({ readTimeout: '2s' });
    engine = setup.engine;
    setup.source.hang = true;
    const read = rejectionOf(engine.get('products', '1'));
    await setup.clock.advance(1_999);
    expect(setup.source.calls[0]!.signal.aborted).toBe(false);
    await setup.clock.advance(1);
    const error = await read;
    expect(isDistCacheError(error, 'E_DATASOURCE_TIMEOUT')).toBe(true);
    expect(setup.source.calls[0]!.signal.aborted).toBe(true);
    expect(engine.stats().keySpaces.products).toMatchObject({ loadErrors: 1, items: 0, inFlight: 0 });
  });

  it('gives up on a source that ignores its signal, and retries on the next get', async () => {
    let calls = 0;
    const setup = await startedEngine({
      readTimeout: 500,
      dataSource: () => {
        calls += 1;
        return calls === 1 ? new Promise<Product>(() => undefined) : product('1');
      },
    });
    engine = setup.engine;
    const read = rejectionOf(engine.get('products', '1'));
    await setup.clock.advance(500);
    expect(isDistCacheError(await read, 'E_DATASOURCE_TIMEOUT')).toBe(true);
    expect((await engine.get<Product>('products', '1'))?.id).toBe('1');
  });

  it('uses the engine-wide default, overridden per keyspace', async () => {
    const setup = await startedEngine({}, { keySpaceDefaults: { readTimeout: '1s' } });
    engine = setup.engine;
    engine.addKeySpace({ name: 'slow', readTimeout: '3s', dataSource: () => new Promise(() => undefined) });
    expect(engine.stats().keySpaces.products!.config.readTimeoutMs).toBe(1_000);
    expect(engine.stats().keySpaces.slow!.config.readTimeoutMs).toBe(3_000);
    const read = rejectionOf(engine.get('slow', 'k'));
    await setup.clock.advance(2_999);
    expect(engine.stats().keySpaces.slow!.inFlight).toBe(1);
    await setup.clock.advance(1);
    expect(isDistCacheError(await read, 'E_DATASOURCE_TIMEOUT')).toBe(true);
  });

  it("bounds one caller's wait with the call-level timeout while the load goes on", async () => {
    const setup = await startedEngine({ readTimeout: '10s' });
    engine = setup.engine;
    setup.source.hold();
    const hurried = rejectionOf(engine.get('products', '5', { timeout: '100ms' }));
    const normal = engine.get<Product>('products', '5');
    await setup.clock.advance(100);
    expect(isDistCacheError(await hurried, 'E_TIMEOUT')).toBe(true);
    setup.source.release();
    expect((await normal)?.id).toBe('5');
  });
});

describe('data source failures', () => {
  it('wraps a throwing source in E_DATASOURCE_FAILED with the cause, and caches nothing', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    const boom = new Error('db down');
    setup.source.failWith = boom;
    const error = await rejectionOf(engine.get('products', '1'));
    expect(isDistCacheError(error, 'E_DATASOURCE_FAILED')).toBe(true);
    expect((error as Error).cause).toBe(boom);
    setup.source.failWith = undefined;
    expect((await engine.get<Product>('products', '1'))?.id).toBe('1');
    expect(setup.source.callsFor('1')).toBe(2);
  });

  it('handles a source that throws synchronously', async () => {
    const setup = await startedEngine({
      dataSource: () => {
        throw new TypeError('bug');
      },
    });
    engine = setup.engine;
    expect(isDistCacheError(await rejectionOf(engine.get('products', '1')), 'E_DATASOURCE_FAILED')).toBe(
      true,
    );
  });

  it('rejects a value the codec cannot encode with E_INVALID_VALUE', async () => {
    const setup = await startedEngine({ dataSource: () => ({ run: () => 1 }) as unknown as Product });
    engine = setup.engine;
    const error = await rejectionOf(engine.get('products', '1'));
    expect(isDistCacheError(error, 'E_INVALID_VALUE')).toBe(true);
    expect(engine.stats().keySpaces.products).toMatchObject({ items: 0, loadErrors: 1 });
  });

  it('rejects a loaded value over maxValueBytes with E_VALUE_TOO_LARGE', async () => {
    const setup = await startedEngine({
      maxValueBytes: 64,
      dataSource: () => ({ text: 'x'.repeat(200) }) as unknown as Product,
    });
    engine = setup.engine;
    expect(isDistCacheError(await rejectionOf(engine.get('products', '1')), 'E_VALUE_TOO_LARGE')).toBe(true);
  });
});
