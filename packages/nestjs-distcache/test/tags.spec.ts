// Tags in the Nest integration: @ReadThrough computes them, @CacheEvict({ tags }) and
// DistCacheService.deleteByTags remove what carries them (standalone node; the cluster behaviour
// is the core's, tested there across processes).
import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheEvict, DistCacheService, ReadThrough } from '../src';
import { closeStarted, Counter, startStandalone as start } from './support/standalone';

afterEach(closeStarted);

interface Item {
  id: string;
  category: string;
  call: number;
}

@Injectable()
class CatalogService {
  constructor(private readonly counter: Counter) {}

  @ReadThrough('items', { tags: (item: Item) => [`category:${item.category}`] })
  async find(id: string): Promise<Item> {
    return { id, category: Number(id) % 2 === 0 ? 'even' : 'odd', call: this.counter.record(id) };
  }

  @CacheEvict('items', { tags: (category: string) => [`category:${category}`] })
  async renameCategory(_category: string): Promise<void> {}

  @CacheEvict('items', { key: (id: string) => id, tags: () => ['category:odd'] })
  async removeWithOdd(_id: string): Promise<void> {}
}

describe('tags', () => {
  it('@CacheEvict({ tags }) removes every entry of the tag and only those', async () => {
    const { app } = await start({ providers: [Counter, CatalogService] });
    const catalog = app.get(CatalogService);
    for (const id of ['1', '2', '3', '4']) await catalog.find(id);
    await catalog.renameCategory('odd');
    const calls = await Promise.all(['1', '2', '3', '4'].map(async (id) => (await catalog.find(id)).call));
    // 1 and 3 (odd) were loaded again: calls 5 and 6; 2 and 4 came from the cache.
    expect(calls).toEqual([5, 2, 6, 4]);
  });

  it('@CacheEvict with key and tags evicts both', async () => {
    const { app } = await start({ providers: [Counter, CatalogService] });
    const catalog = app.get(CatalogService);
    for (const id of ['1', '2', '4']) await catalog.find(id);
    await catalog.removeWithOdd('2');
    const counter = app.get(Counter);
    await catalog.find('1');
    await catalog.find('2');
    await catalog.find('4');
    expect(counter.calls.map(([id]) => id)).toEqual(['1', '2', '4', '1', '2']);
  });

  it('DistCacheService.deleteByTags removes entries put with explicit tags', async () => {
    const { app } = await start({ providers: [Counter, CatalogService] });
    const cache = app.get(DistCacheService);
    await cache.put('items', 'x', { id: 'x' }, { tags: ['promo'] });
    expect(await cache.get('items', 'x')).toEqual({ id: 'x' });
    await cache.deleteByTags('items', ['promo']);
    expect(await cache.get('items', 'x')).toMatchObject({ id: 'x', call: 1 });
  });
});
