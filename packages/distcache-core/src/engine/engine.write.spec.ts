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

describe('put and delete', () => {
  it('serves a put value without calling the source', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.put('products', '1', { ...product('1'), name: 'from put' });
    expect((await engine.get<Product>('products', '1'))?.name).toBe('from put');
    expect(setup.source.calls).toHaveLength(0);
  });

  it('does not keep a reference to the object that was put', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    const value = { id: '1', list: [1] };
    await engine.put('products', '1', value);
    value.list.push(2);
    expect(await engine.get('products', '1')).toEqual({ id: '1', list: [1] });
  });

  it('makes the next get load again after a delete', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.get('products', '1');
    await engine.delete('products', '1');
    await engine.get('products', '1');
    expect(setup.source.callsFor('1')).toBe(2);
    expect(engine.stats().keySpaces.products).toMatchObject({ deletes: 1, loads: 2 });
  });

  it('deleteMany removes every listed key', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.getMany('products', ['1', '2', '3']);
    await engine.deleteMany('products', ['1', '2']);
    expect(engine.stats().keySpaces.products!.items).toBe(1);
  });

  it('putMany stores every entry, each with its own ttl', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.putMany('products', [
      { key: 'a', value: 1, ttl: '1s' },
      { key: 'b', value: 2 },
    ]);
    await setup.clock.advance(1_000);
    expect(await engine.get('products', 'a')).toBeUndefined();
    expect(await engine.get('products', 'b')).toBe(2);
  });

  it('a load in flight when a delete arrives does not re-insert the old value', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    setup.source.hold();
    const staleRead = engine.get<Product>('products', '1');
    await settle();
    await engine.delete('products', '1');
    setup.source.release();
    expect((await staleRead)?.name).toBe('Product 1');
    expect(engine.stats().keySpaces.products!.items).toBe(0);
    setup.source.data.set('1', { ...product('1'), name: 'new' });
    expect((await engine.get<Product>('products', '1'))?.name).toBe('new');
    expect(setup.source.callsFor('1')).toBe(2);
  });

  it('a load in flight when a put arrives does not overwrite the put value', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    setup.source.hold();
    const staleRead = engine.get('products', '1');
    await settle();
    await engine.put('products', '1', { id: '1', name: 'put' });
    setup.source.release();
    await staleRead;
    expect(await engine.get('products', '1')).toEqual({ id: '1', name: 'put' });
    expect(setup.source.callsFor('1')).toBe(1);
  });

  it('a get after a delete does not join a load that started before it', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    setup.source.hold();
    const early = engine.get('products', '2');
    await settle();
    await engine.delete('products', '2');
    const late = engine.get('products', '2');
    await settle();
    setup.source.release();
    await Promise.all([early, late]);
    expect(setup.source.callsFor('2')).toBe(2);
  });
});

describe('expiry', () => {
  it('expires entries after the keyspace ttl and loads them again', async () => {
    const setup = await startedEngine({ ttl: '5m' });
    engine = setup.engine;
    await engine.get('products', '1');
    await setup.clock.advance(5 * 60_000 - 1);
    await engine.get('products', '1');
    expect(setup.source.callsFor('1')).toBe(1);
    await setup.clock.advance(1);
    await engine.get('products', '1');
    expect(setup.source.callsFor('1')).toBe(2);
    expect(engine.stats().keySpaces.products!.expirations).toBe(1);
  });

  it('honours a per-entry ttl over the keyspace ttl', async () => {
    const setup = await startedEngine({ ttl: '1h' });
    engine = setup.engine;
    await engine.put('products', 'short', 1, { ttl: '10s' });
    await engine.put('products', 'default', 2);
    await setup.clock.advance(10_000);
    expect(await engine.get('products', 'short')).toBeUndefined();
    expect(await engine.get('products', 'default')).toBe(2);
  });

  it('purges expired entries periodically without any read', async () => {
    const setup = await startedEngine({ ttl: '10s' }, { purgeInterval: '1m' });
    engine = setup.engine;
    await engine.getMany('products', ['1', '2', '3']);
    expect(engine.stats().keySpaces.products!.items).toBe(3);
    await setup.clock.advance(60_000);
    expect(engine.stats().keySpaces.products).toMatchObject({ items: 0, bytes: 0, expirations: 3 });
    await setup.clock.advance(60_000);
    expect(setup.clock.pendingTimers).toBe(1);
  });

  it('remembers "not found" for negativeTtl, then asks the source again', async () => {
    const setup = await startedEngine({ negativeTtl: '30s' });
    engine = setup.engine;
    expect(await engine.get('products', 'ghost')).toBeUndefined();
    expect(await engine.get('products', 'ghost')).toBeUndefined();
    expect(setup.source.callsFor('ghost')).toBe(1);
    expect(engine.stats().keySpaces.products).toMatchObject({ hits: 1, loadErrors: 0 });
    await setup.clock.advance(30_000);
    setup.source.data.set('ghost', product('9'));
    expect((await engine.get<Product>('products', 'ghost'))?.id).toBe('9');
  });

  it('does not remember "not found" by default', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.get('products', 'ghost');
    await engine.get('products', 'ghost');
    expect(setup.source.callsFor('ghost')).toBe(2);
  });
});

describe('byte budget', () => {
  it('evicts least recently used entries to stay within maxBytes (encoded bytes)', async () => {
    const loaded: string[] = [];
    const setup = await startedEngine({
      maxBytes: 4_000,
      dataSource: (key) => {
        loaded.push(key);
        return { key, pad: 'x'.repeat(900) } as unknown as Product;
      },
    });
    engine = setup.engine;
    for (let index = 0; index < 10; index += 1) await engine.get('products', `k${index}`);
    const stats = engine.stats().keySpaces.products!;
    expect(stats.bytes).toBeLessThanOrEqual(4_000);
    expect(stats.items).toBeLessThan(10);
    expect(stats.evictions).toBe(10 - stats.items);
    await engine.get('products', 'k9');
    await engine.get('products', 'k0');
    // The newest entry is still cached; the oldest was evicted and loads again.
    expect(loaded.filter((key) => key === 'k9')).toHaveLength(1);
    expect(loaded.filter((key) => key === 'k0')).toHaveLength(2);
  });

  it('rejects a put over maxBytes with E_VALUE_TOO_LARGE and leaves the entry as it was', async () => {
    const setup = await startedEngine({ maxBytes: 1_000 });
    engine = setup.engine;
    await engine.put('products', 'k', 'small');
    const error = await rejectionOf(engine.put('products', 'k', 'x'.repeat(2_000)));
    expect(isDistCacheError(error, 'E_VALUE_TOO_LARGE')).toBe(true);
    expect((error as Error).message).toMatch(/maxValueBytes|maxBytes/);
    expect(await engine.get('products', 'k')).toBe('small');
  });

  it('rejects a put over maxValueBytes with E_VALUE_TOO_LARGE', async () => {
    const setup = await startedEngine({ maxValueBytes: 100 });
    engine = setup.engine;
    const error = await rejectionOf(engine.put('products', 'k', 'x'.repeat(200)));
    expect(isDistCacheError(error, 'E_VALUE_TOO_LARGE')).toBe(true);
    expect((error as Error).message).toContain('maxValueBytes');
  });
});
