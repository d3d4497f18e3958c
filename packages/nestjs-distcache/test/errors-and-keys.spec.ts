// On one standalone node: what a @ReadThrough method throws is what its caller gets, with the
// engine running or not, and nothing is cached; writes whose default key cannot match the
// @ReadThrough they target fail bootstrap; a deleted decorated keyspace comes back; clear().
import { BadRequestException, HttpException, Injectable, NotFoundException } from '@nestjs/common';
import { isDistCacheError } from 'distcache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheEvict, CachePut, DistCacheService, ReadThrough } from '../src';
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
