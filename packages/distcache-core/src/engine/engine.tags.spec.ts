import { afterEach, describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import { itemBytes } from '../keyspace/bookkeeping';
import { settle } from '../testing/manual-clock';
import type { DistCacheEngine } from './engine';
import { type Product, rejectionOf, startedEngine } from '../../test/support/engine.fixture';

let engine: DistCacheEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

// Odd ids in 'odd', every id in 'all'.
const byParity = (value: Product): string[] => (Number(value.id) % 2 === 1 ? ['odd', 'all'] : ['all']);

describe('tags', () => {
  it('charges its tag invalidations against maxBytes: entries make room for them, up to an eighth of the budget', async () => {
    const maxBytes = 64 * 1024;
    // Tagged entries: a tag record is kept while an entry it may revoke lives.
    const setup = await startedEngine({ maxBytes, tags: byParity });
    engine = setup.engine;
    await engine.getMany('products', ['1', '2', '3', '4', '5']);
    const entries = engine.stats().keySpaces.products!.bytes;
    expect(entries).toBeGreaterThan(0);
    // 200 tags of 200 characters (~400 B each): past an eighth of 64 KiB, the oldest records go.
    for (let i = 0; i < 200; i++) await engine.deleteByTags('products', [`${i}-`.padEnd(200, 'x')]);
    const stats = engine.stats().keySpaces.products!;
    expect(stats.bookkeepingBytes).toBeGreaterThan(maxBytes / 8 - 1_000);
    expect(stats.bookkeepingBytes).toBeLessThanOrEqual(maxBytes / 8);
    expect(stats.bytes).toBe(entries + stats.bookkeepingBytes);
    expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
  });

  it('evicts entries to keep them and the bookkeeping within maxBytes', async () => {
    const probe = await startedEngine({ tags: byParity });
    await probe.engine.getMany('products', ['1', '2', '3', '4', '5']);
    const { bytes: five, items } = probe.engine.stats().keySpaces.products!;
    await probe.engine.stop();
    expect(items).toBe(5);
    // A budget the five entries fill but for 200 B: a tag record of 368 B (an eighth of the
    // budget holds one) takes the room of the least recently used entry.
    const setup = await startedEngine({ tags: byParity, maxBytes: five + 200 });
    engine = setup.engine;
    await engine.getMany('products', ['1', '2', '3', '4', '5']);
    expect(engine.stats().keySpaces.products!.items).toBe(5);
    await engine.get('products', '1');
    const tags = ['even-only'.padEnd(256, 'x'), 'another'.padEnd(256, 'y')];
    await engine.deleteByTags('products', tags);
    const after = engine.stats().keySpaces.products!;
    // The older record went: past the eighth of the budget.
    expect(after.bookkeepingBytes).toBe(itemBytes('tag', tags[1]!));
    expect(after.bytes).toBeLessThanOrEqual(five + 200);
    // One entry made room (the least recently used: storage/lru.storage.spec.ts).
    expect(after).toMatchObject({ evictions: 1, items: 4 });
  });

  it('deleteByTags removes the loaded entries carrying the tag, and only those', async () => {
    const setup = await startedEngine({ tags: byParity });
    engine = setup.engine;
    await engine.getMany('products', ['1', '2', '3', '4']);
    await engine.deleteByTags('products', ['odd']);
    await engine.getMany('products', ['1', '2', '3', '4']);
    expect(['1', '2', '3', '4'].map((id) => setup.source.callsFor(id))).toEqual([2, 1, 2, 1]);
    expect(engine.stats().keySpaces.products).toMatchObject({ tagInvalidations: 1 });
  });

  it('a put with explicit tags is removed by those tags; the keyspace function does not override them', async () => {
    const setup = await startedEngine({ tags: byParity });
    engine = setup.engine;
    await engine.put('products', '2', { ...setup.source.data.get('2')!, name: 'put' }, { tags: ['promo'] });
    await engine.deleteByTags('products', ['all']);
    expect((await engine.get<Product>('products', '2'))?.name).toBe('put');
    await engine.deleteByTags('products', ['promo']);
    expect((await engine.get<Product>('products', '2'))?.name).toBe('Product 2');
    expect(setup.source.callsFor('2')).toBe(1);
  });

  it('putMany entries carry their own tags', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.putMany('products', [
      { key: '1', value: { id: '1' }, tags: ['t'] },
      { key: '2', value: { id: '2' } },
    ]);
    await engine.deleteByTags('products', ['t']);
    expect(await engine.get('products', '2')).toEqual({ id: '2' });
    expect((await engine.get<Product>('products', '1'))?.name).toBe('Product 1');
  });

  it('a load in flight when deleteByTags is called does not store its value', async () => {
    const setup = await startedEngine({ tags: byParity });
    engine = setup.engine;
    setup.source.hold();
    const first = engine.get('products', '1');
    await settle();
    await engine.deleteByTags('products', ['odd']);
    setup.source.release();
    await first;
    // A later read loads again: the value loaded before the call was not kept.
    setup.source.release();
    await engine.get('products', '1');
    expect(setup.source.callsFor('1')).toBe(2);
  });

  it('without a tags function, a load in flight when deleteByTags is called keeps its value', async () => {
    // Such a load cannot carry a tag; detaching it made frequent deleteByTags calls repeat every
    // load of the keyspace, and one called every few ms kept a hot key from ever being stored.
    const setup = await startedEngine();
    engine = setup.engine;
    setup.source.hold();
    const first = engine.get('products', '2');
    await settle();
    await engine.deleteByTags('products', ['promo']);
    setup.source.release();
    await first;
    await engine.get('products', '2');
    expect(setup.source.callsFor('2')).toBe(1);
  });

  it('entries without tags are untouched and the untagged read path does not check', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.get('products', '1');
    await engine.deleteByTags('products', ['odd', 'all']);
    await engine.get('products', '1');
    expect(setup.source.callsFor('1')).toBe(1);
  });

  it('counts tags in the memory of an entry', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.put('products', '1', { id: '1' });
    const untagged = engine.stats().keySpaces.products!.bytes;
    await engine.put('products', '1', { id: '1' }, { tags: ['category:shoes', 'tenant:42'] });
    expect(engine.stats().keySpaces.products!.bytes).toBeGreaterThan(untagged + 56);
  });

  it('refuses bad tags with E_INVALID_VALUE', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    const put = await rejectionOf(engine.put('products', '1', { id: '1' }, { tags: [''] }));
    expect(isDistCacheError(put, 'E_INVALID_VALUE')).toBe(true);
    const del = await rejectionOf(engine.deleteByTags('products', ['x'.repeat(300)]));
    expect(isDistCacheError(del, 'E_INVALID_VALUE')).toBe(true);
    // No list at all is refused (it resolved as if it had deleted something); an empty one is a no-op.
    for (const missing of [null, undefined])
      expect(
        isDistCacheError(
          await rejectionOf(engine.deleteByTags('products', missing as unknown as string[])),
          'E_INVALID_VALUE',
        ),
      ).toBe(true);
    await engine.deleteByTags('products', []);
  });

  it('a tags function that throws fails the load with E_INVALID_VALUE', async () => {
    const setup = await startedEngine({
      tags: () => {
        throw new Error('boom');
      },
    });
    engine = setup.engine;
    const error = await rejectionOf(engine.get('products', '1'));
    expect(isDistCacheError(error, 'E_INVALID_VALUE')).toBe(true);
  });
});
