// On one standalone node: what a @ReadThrough method throws is what its caller gets, with the
// engine running or not, and nothing is cached; writes whose default key cannot match the
// @ReadThrough they target fail bootstrap; a deleted decorated keyspace comes back; clear().
import { BadRequestException, HttpException, Injectable, NotFoundException } from '@nestjs/common';
import { isDistCacheError } from 'distcache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheEvict, CachePut, DistCacheService, type KeyFunction, ReadThrough } from '../src';
import {
  bootstrapError,
  closeStarted,
  Counter,
  createStandaloneApp,
  startStandalone as start,
} from './support/standalone';

afterEach(closeStarted);

class DatabaseDown extends Error {
  readonly code = 'EDBDOWN';
  override name = 'DatabaseDown';
}

@Injectable()
class Catalogue {
  constructor(private readonly counter: Counter) {}

  @ReadThrough('items')
  async findOne(id: string): Promise<{ id: string }> {
    this.counter.record(id);
    if (id === 'missing') throw new NotFoundException(`Item ${id} not found`);
    if (id === 'bad') throw new BadRequestException({ message: ['id must be a uuid'], error: 'Bad Request' });
    if (id === 'down') throw new DatabaseDown('connection refused');
    return { id };
  }

  @CacheEvict('items', { key: (id: string) => id })
  async rename(_id: string, _name: string): Promise<void> {}
}

describe('errors of a @ReadThrough method', () => {
  it('reach the caller as thrown, engine running or not, and are not cached', async () => {
    const { app } = await start({ providers: [Counter, Catalogue] });
    const { app: idle } = await createStandaloneApp({ providers: [Counter, Catalogue] }); // never init()
    for (const catalogue of [app.get(Catalogue), idle.get(Catalogue)]) {
      const missing = await catalogue.findOne('missing').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(NotFoundException);
      expect((missing as HttpException).getStatus()).toBe(404);
      const bad = await catalogue.findOne('bad').catch((e: unknown) => e);
      expect((bad as HttpException).getResponse()).toEqual({
        message: ['id must be a uuid'],
        error: 'Bad Request',
      });
      const down = await catalogue.findOne('down').catch((e: unknown) => e);
      expect(down).toBeInstanceOf(DatabaseDown);
      expect(down).toMatchObject({ message: 'connection refused', code: 'EDBDOWN' });
    }
    const counter = app.get(Counter);
    await app
      .get(Catalogue)
      .findOne('missing')
      .catch(() => undefined);
    expect(counter.calls.filter(([id]) => id === 'missing')).toHaveLength(2);
    await idle.close();
  });
});

describe('keys of @CacheEvict / @CachePut', () => {
  it('without key on a method whose parameters differ from the @ReadThrough: bootstrap fails naming both', async () => {
    @Injectable()
    class Writer {
      @CacheEvict('items')
      async rename(_id: string, _name: string): Promise<void> {}
    }
    const error = await bootstrapError({ providers: [Counter, Catalogue, Writer] });
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect(error.message).toMatch(
      /^@CacheEvict\('items'\) on Writer\.rename has no `key`.*Writer\.rename\(String, String\) and Catalogue\.findOne\(String\) take different parameters.*Give it a `key`/,
    );
  });

  it('without key on a @ReadThrough that has its own key function: bootstrap fails', async () => {
    @Injectable()
    class Custom {
      @ReadThrough('custom', { key: (id: string) => `item:${id}`, args: (key): [string] => [key.slice(5)] })
      async find(id: string): Promise<string> {
        return id;
      }

      @CachePut('custom')
      async save(id: string): Promise<string> {
        return id;
      }
    }
    const error = await bootstrapError({ providers: [Custom] });
    expect(error.message).toMatch(
      /^@CachePut\('custom'\) on Custom\.save has no `key`.*Custom\.find derives its keys/,
    );
  });

  it('without key on the same parameters: the write evicts what the read cached', async () => {
    @Injectable()
    class Remover {
      @CacheEvict('items')
      async remove(_id: string): Promise<void> {}
    }
    const { app } = await start({ providers: [Counter, Catalogue, Remover] });
    const catalogue = app.get(Catalogue);
    await catalogue.findOne('a');
    await app.get(Remover).remove('a');
    await catalogue.findOne('a');
    await catalogue.rename('a', 'x');
    await catalogue.findOne('a');
    expect(app.get(Counter).calls).toEqual([['a'], ['a'], ['a']]);
  });

  it('key functions are typed from the method parameters', () => {
    // Compile-time checks (tsc runs over the tests in `npm run lint`); at runtime they only build.
    class Typed {
      // @ts-expect-error the key function takes a number, the method's first parameter is a string
      @CacheEvict('items', { key: (id: number) => String(id) })
      async remove(_id: string): Promise<void> {}

      @CacheEvict('items', { key: (id: string) => id })
      async rename(_id: string, _name: string): Promise<void> {}

      // As in the README: both directions, typed like the parameters.
      @ReadThrough('translations', {
        key: (sku: string, locale: string) => `${locale}/${sku}`,
        args: (key): [string, string] => {
          const [locale = '', sku = ''] = key.split('/');
          return [sku, locale];
        },
      })
      async translation(sku: string, locale: string): Promise<string> {
        return `${sku}@${locale}`;
      }

      // @ts-expect-error args must rebuild the method's parameters
      @ReadThrough('typed', { key: (id: string) => id, args: (key: string) => [Number(key)] as [number] })
      async find(id: string): Promise<string> {
        return id;
      }
    }
    expect(typeof Typed.prototype.rename).toBe('function');
  });
});

describe('arguments that cannot be encoded into a key', () => {
  class SearchDto {
    constructor(readonly q: string) {}
  }

  @Injectable()
  class ProductsSearch {
    constructor(private readonly counter: Counter) {}

    @ReadThrough('search')
    async search(query: SearchDto | { q: string }, _from?: Date | number): Promise<string> {
      this.counter.record(query);
      return query.q;
    }

    @CacheEvict('search')
    async forget(_query: SearchDto | { q: string }, _from?: Date | number): Promise<void> {}
  }

  it('a class instance, a Date or NaN rejects with E_INVALID_KEY naming the method, keyspace and fix', async () => {
    const { app } = await start({ providers: [Counter, ProductsSearch] });
    const products = app.get(ProductsSearch);
    const dto = await products.search(new SearchDto('drill')).catch((e: unknown) => e);
    expect(isDistCacheError(dto, 'E_INVALID_KEY')).toBe(true);
    expect((dto as Error).message).toBe(
      `@ReadThrough('search') on ProductsSearch.search: cannot make a key of keyspace "search" from the ` +
        'arguments: arguments[0] is an instance of SearchDto, which does not survive a JSON round trip. ' +
        'Pass plain values (strings, finite numbers, booleans, null, arrays, plain objects: { ...dto } for ' +
        'a class instance, an ISO string for a Date), or give the decorator `key` and `args` functions, ' +
        'which replace the encoding in both directions',
    );
    expect((dto as Error).cause).toBeInstanceOf(TypeError);
    expect(dto).toMatchObject({ details: { keySpace: 'search', method: 'ProductsSearch.search' } });
    const date = await products.search({ q: 'drill' }, new Date(0)).catch((e: unknown) => e);
    expect(isDistCacheError(date, 'E_INVALID_KEY')).toBe(true);
    expect((date as Error).message).toContain('arguments[1] is an instance of Date');
    const nan = await products.search({ q: 'drill' }, Number.NaN).catch((e: unknown) => e);
    expect((nan as Error).message).toContain('arguments[1] is NaN');
    // Nothing was loaded; plain values go through the cache.
    expect(app.get(Counter).calls).toEqual([]);
    expect(await products.search({ ...new SearchDto('drill') })).toBe('drill');
    expect(await products.search({ q: 'drill' })).toBe('drill');
    expect(app.get(Counter).calls).toHaveLength(1);
  });

  it('a write without `key` reports the same, naming its own decorator', async () => {
    const { app } = await start({ providers: [Counter, ProductsSearch] });
    const error = await app
      .get(ProductsSearch)
      .forget({ q: 'drill' }, new Date(0))
      .catch((e: unknown) => e);
    expect(isDistCacheError(error, 'E_INVALID_KEY')).toBe(true);
    expect((error as Error).message).toMatch(
      /^@CacheEvict\('search'\) on ProductsSearch\.forget: cannot make a key of keyspace "search" .*arguments\[1\] is an instance of Date.*or give the decorator a `key` function that returns the key the @ReadThrough method reads$/,
    );
  });
});

describe('keys the engine refuses name the decorator, the method and the way out', () => {
  @Injectable()
  class Big {
    constructor(private readonly counter: Counter) {}

    @ReadThrough('big')
    async find(id: string): Promise<string> {
      this.counter.record(id);
      return id;
    }

    @CacheEvict('big', {
      key: ((id: string) => (id === 'none' ? undefined : 42)) as unknown as KeyFunction<[string]>,
    })
    async drop(id: string): Promise<void> {
      this.counter.record('drop', id);
    }

    @CachePut('big', { key: (id: string) => id.repeat(600) })
    async save(id: string): Promise<string> {
      return id;
    }

    @CacheEvict('big', {
      key: ((id: string) => (id === 'none' ? undefined : id)) as unknown as KeyFunction<[string]>,
      tags: ((id: string) => (id === 'text' ? 'not-an-array' : ['all'])) as unknown as KeyFunction<
        [string],
        readonly string[]
      >,
    })
    async dropTagged(id: string): Promise<void> {
      this.counter.record('dropTagged', id);
    }
  }

  it('a @ReadThrough argument over maxKeyBytes', async () => {
    const { app } = await start({ providers: [Counter, Big] });
    const error = await app
      .get(Big)
      .find('x'.repeat(2010))
      .catch((e: unknown) => e);
    expect(isDistCacheError(error, 'E_INVALID_KEY')).toBe(true);
    expect((error as Error).message).toBe(
      `@ReadThrough('big') on Big.find: Invalid key in keyspace "big": is 2010+ bytes, over maxKeyBytes ` +
        '(1024). Give the decorator `key` and `args` functions, which replace the encoding in both ' +
        'directions, making a shorter key (a hash of the arguments, for example), or raise maxKeyBytes ' +
        '(1024) in the DistCacheModule options',
    );
    expect(isDistCacheError((error as Error).cause, 'E_INVALID_KEY')).toBe(true);
    expect(error).toMatchObject({ details: { keySpace: 'big', method: 'Big.find' } });
    expect(app.get(Counter).calls).toEqual([]);
  });

  it('a write whose key function returns no key, or one too long', async () => {
    const { app } = await start({ providers: [Counter, Big] });
    const big = app.get(Big);
    const none = await big.drop('none').catch((e: unknown) => e);
    expect(isDistCacheError(none, 'E_INVALID_KEY')).toBe(true);
    expect((none as Error).message).toBe(
      `@CacheEvict('big') on Big.drop: its \`key\` function returned undefined, not a key of keyspace ` +
        '"big". The method ran; nothing was evicted, so the cache may still serve the old value. Make ' +
        'the `key` function return a non-empty string or an array of them',
    );
    expect(none).toMatchObject({ details: { keySpace: 'big', method: 'Big.drop' } });
    const number = await big.drop('n').catch((e: unknown) => e);
    expect((number as Error).message).toMatch(
      /^@CacheEvict\('big'\) on Big\.drop: its `key` function returned 42, /,
    );
    const long = await big.save('ab').catch((e: unknown) => e);
    expect(isDistCacheError(long, 'E_INVALID_KEY')).toBe(true);
    expect((long as Error).message).toMatch(
      /^@CachePut\('big'\) on Big\.save: Invalid key in keyspace "big": is 1200\+ bytes, over maxKeyBytes \(1024\) \(its `key` function returned "(ab)+\.\.\.\)\. The method ran; its result was not stored, so the cache may still serve the old value\. Give the decorator a `key` function that returns the key the @ReadThrough method reads, making a shorter key \(a hash of the arguments, for example\), or raise maxKeyBytes \(1024\) in the DistCacheModule options$/,
    );
  });

  it('a @CacheEvict with tags evicts nothing when its key function returns no key, and names a tags function that returns no array', async () => {
    const { app } = await start({ providers: [Counter, Big] });
    const big = app.get(Big);
    const cache = app.get(DistCacheService);
    await cache.put('big', 'kept', 'v', { tags: ['all'] });
    const none = await big.dropTagged('none').catch((e: unknown) => e);
    expect(isDistCacheError(none, 'E_INVALID_KEY')).toBe(true);
    expect((none as Error).message).toContain('nothing was evicted');
    // True: the tags were not evicted either.
    expect(await cache.get('big', 'kept')).toBe('v');
    const text = await big.dropTagged('text').catch((e: unknown) => e);
    expect(isDistCacheError(text, 'E_INVALID_VALUE')).toBe(true);
    expect((text as Error).message).toMatch(
      /^@CacheEvict\('big'\) on Big\.dropTagged: its `tags` function returned "not-an-array", which keyspace "big" refuses \(.*\)\. The method ran; nothing was evicted, so the cache may still serve the old value\. Make the `tags` function return an array of tag strings$/,
    );
    expect(await cache.get('big', 'kept')).toBe('v');
    await big.dropTagged('x');
    // Evicted by its tag: the next read loads it from the method (which returns the id).
    expect(await cache.get('big', 'kept')).toBe('kept');
  });
});

describe('emptying a @ReadThrough keyspace', () => {
  it('clear() keeps the keyspace; deleteKeySpace() brings it back empty instead of breaking the method', async () => {
    const { app, logger } = await start({ providers: [Counter, Catalogue] });
    const catalogue = app.get(Catalogue);
    const cache = app.get(DistCacheService);
    await catalogue.findOne('a');
    await cache.clear('items');
    await catalogue.findOne('a');
    await cache.deleteKeySpace('items');
    expect(cache.keySpaces()).toContain('items');
    await catalogue.findOne('a');
    await catalogue.findOne('a');
    expect(app.get(Counter).calls).toEqual([['a'], ['a'], ['a']]);
    expect(logger.lines.map((line) => line.message)).toContainEqual(
      expect.stringMatching(
        /^keyspace "items" was deleted and registered again, empty, since @ReadThrough\('items'\) on Catalogue\.findOne declares it/,
      ),
    );
  });
});
