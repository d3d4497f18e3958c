// Bootstrap refuses configurations that would make the cache wrong, with messages naming the
// class and method, and warns about providers it cannot serve.
import { Controller, Get, Injectable, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type DistCacheEngine, type Duration, isDistCacheError } from 'distcache-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CacheEvict,
  type CacheEvictOptions,
  CachePut,
  type CachePutOptions,
  DISTCACHE_ENGINE,
  DistCacheModule,
  type DistCacheModuleOptions,
  DistCacheService,
  KeySpace,
  type KeySpaceProvider,
  ReadThrough,
  type ReadThroughOptions,
} from '../src';
import {
  bootstrapError,
  closeStarted,
  compileError,
  Counter,
  ProductsService,
  startStandalone as start,
  track,
} from './support/standalone';

afterEach(closeStarted);

describe('bootstrap errors name the class and method', () => {
  it('@CacheEvict of an unknown keyspace', async () => {
    @Injectable()
    class Writer {
      @CacheEvict('prodcts')
      async remove(_id: string): Promise<void> {}
    }
    const error = await bootstrapError({ providers: [Counter, ProductsService, Writer] });
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect(error.message).toBe(
      `@CacheEvict('prodcts') on Writer.remove: no keyspace "prodcts" is registered (known: products). ` +
        'Declare it with @ReadThrough, @KeySpace or the keySpaces of DistCacheModule.forRoot()',
    );
  });

  it('@CachePut of an unknown keyspace', async () => {
    @Injectable()
    class Writer {
      @CachePut('nowhere')
      async save(id: string): Promise<string> {
        return id;
      }
    }
    const error = await bootstrapError({ providers: [Writer] });
    expect(error.message).toMatch(
      /^@CachePut\('nowhere'\) on Writer\.save: no keyspace "nowhere" is registered \(known: none\)/,
    );
  });

  it('two @ReadThrough methods for one keyspace', async () => {
    @Injectable()
    class OtherProducts {
      @ReadThrough('products')
      async load(id: string): Promise<string> {
        return id;
      }
    }
    const error = await bootstrapError({ providers: [Counter, ProductsService, OtherProducts] });
    expect(error.message).toBe(
      'keyspace "products" has two data sources: @ReadThrough on ProductsService.find and @ReadThrough on ' +
        'OtherProducts.load. A keyspace has exactly one data source; give one of them another keyspace name',
    );
  });

  it('a @KeySpace class and a @ReadThrough method for one keyspace', async () => {
    @KeySpace({ name: 'products' })
    @Injectable()
    class ProductsSource implements KeySpaceProvider<string> {
      async fetch(key: string): Promise<string> {
        return key;
      }
    }
    const error = await bootstrapError({ providers: [ProductsSource, Counter, ProductsService] });
    expect(error.message).toMatch(
      /^keyspace "products" has two data sources: @KeySpace class ProductsSource and @ReadThrough on ProductsService\.find\./,
    );
  });

  it('a keyspace of the module options redeclared by @ReadThrough', async () => {
    const error = await bootstrapError(
      { providers: [Counter, ProductsService] },
      { keySpaces: [{ name: 'products' }] },
    );
    expect(error.message).toMatch(
      /^keyspace "products" has two data sources: the keySpaces of DistCacheModule options and @ReadThrough on ProductsService\.find\./,
    );
  });

  it('@ReadThrough on a method that is not async', async () => {
    @Injectable()
    class SyncService {
      // @ts-expect-error the decorator's type accepts only methods returning a Promise
      @ReadThrough('sync')
      find(id: string): string {
        return id;
      }
    }
    const error = await bootstrapError({ providers: [SyncService] });
    expect(error.message).toBe(
      "@ReadThrough('sync') on SyncService.find: SyncService.find must be async (or declare a Promise " +
        'return type), because every call now goes through the cache and resolves later',
    );
  });

  it('@CacheEvict on a method that is not async', async () => {
    @Injectable()
    class SyncWriter {
      // @ts-expect-error the decorator's type accepts only methods returning a Promise
      @CacheEvict('products')
      remove(_id: number): void {}
    }
    const error = await bootstrapError({ providers: [Counter, ProductsService, SyncWriter] });
    expect(error.message).toMatch(
      /^@CacheEvict\('products'\) on SyncWriter\.remove: SyncWriter\.remove must be async/,
    );
  });

  it('@ReadThrough with `key` but no `args`', async () => {
    @Injectable()
    class Keyed {
      @ReadThrough('keyed', { key: (a: string, b: string) => `${a}/${b}` })
      async find(a: string, b: string): Promise<string> {
        return a + b;
      }
    }
    const error = await bootstrapError({ providers: [Keyed] });
    expect(error.message).toMatch(
      /^@ReadThrough\('keyed'\) on Keyed\.find: give both `key` and `args` \(or neither\)/,
    );
  });

  it('@ReadThrough combined with @CacheEvict on one method', async () => {
    @Injectable()
    class Mixed {
      @ReadThrough('mixed')
      @CacheEvict('mixed')
      async find(id: string): Promise<string> {
        return id;
      }
    }
    const error = await bootstrapError({ providers: [Mixed] });
    expect(error.message).toBe(
      "@ReadThrough('mixed') on Mixed.find: @ReadThrough cannot be combined with @CacheEvict or @CachePut on one method",
    );
  });

  it('an invalid keyspace setting names the decorator and the field', async () => {
    @Injectable()
    class BadTtl {
      // @ts-expect-error 'soon' is not a Duration
      @ReadThrough('bad', { ttl: 'soon' })
      async find(id: string): Promise<string> {
        return id;
      }
    }
    const error = await bootstrapError({ providers: [BadTtl] });
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect(error.message).toMatch(/^@ReadThrough\('bad'\) on BadTtl\.find: .*ttl/);
  });

  it('@CachePut options are checked at bootstrap: an unknown field, an invalid ttl', async () => {
    @Injectable()
    class Typo {
      @CachePut('products', { key: (id: number) => String(id), tll: '5m' } as CachePutOptions<[number]>)
      async save(id: number): Promise<number> {
        return id;
      }
    }
    const typo = await bootstrapError({ providers: [Counter, ProductsService, Typo] });
    expect(isDistCacheError(typo, 'E_INVALID_OPTION')).toBe(true);
    expect(typo.message).toBe(
      `@CachePut('products') on Typo.save: Invalid option "tll": is not a known @CachePut option ` +
        '(it takes key and ttl)',
    );
    expect(typo).toMatchObject({ details: { path: 'tll' } });

    for (const ttl of ['5 minutes', -1]) {
      @Injectable()
      class BadTtl {
        @CachePut('products', { ttl: ttl as Duration })
        async save(id: number): Promise<number> {
          return id;
        }
      }
      const error = await bootstrapError({ providers: [Counter, ProductsService, BadTtl] });
      expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
      expect(error.message).toMatch(
        /^@CachePut\('products'\) on BadTtl\.save: Invalid option "ttl": must be/,
      );
    }
  });

  it('@CacheEvict and @ReadThrough options are checked at bootstrap too', async () => {
    @Injectable()
    class EvictTypo {
      @CacheEvict('products', { keys: (id: number) => String(id) } as CacheEvictOptions<[number]>)
      async remove(_id: number): Promise<void> {}
    }
    const typo = await bootstrapError({ providers: [Counter, ProductsService, EvictTypo] });
    expect(isDistCacheError(typo, 'E_INVALID_OPTION')).toBe(true);
    expect(typo.message).toBe(
      `@CacheEvict('products') on EvictTypo.remove: Invalid option "keys": is not a known @CacheEvict ` +
        'option (it takes key and tags)',
    );

    @Injectable()
    class NotAFunction {
      @CacheEvict('products', { key: 'id' } as unknown as CacheEvictOptions<[number]>)
      async remove(_id: number): Promise<void> {}
    }
    const notAFunction = await bootstrapError({ providers: [Counter, ProductsService, NotAFunction] });
    expect(notAFunction.message).toBe(
      `@CacheEvict('products') on NotAFunction.remove: Invalid option "key": must be a function of the ` +
        `method's arguments (got "id")`,
    );

    @Injectable()
    class NullOptions {
      @ReadThrough('nulls', null as unknown as ReadThroughOptions)
      async find(id: string): Promise<string> {
        return id;
      }
    }
    const nullOptions = await bootstrapError({ providers: [NullOptions] });
    expect(nullOptions.message).toBe(
      `@ReadThrough('nulls') on NullOptions.find: Invalid option "options": must be an object (got null)`,
    );
  });

  it('a @KeySpace class without fetch', async () => {
    // @ts-expect-error the decorator's type requires fetch(key, context)
    @KeySpace({ name: 'empty' })
    @Injectable()
    class NoFetch {}
    const error = await bootstrapError({ providers: [NoFetch] });
    expect(error.message).toBe(
      "@KeySpace('empty') on NoFetch: the class has no fetch(key, context) method to load keys with",
    );
  });

  it('a decorator on a getter, a property or a static method fails instead of being ignored', async () => {
    @Injectable()
    class Getter {
      // @ts-expect-error the decorator's type accepts only methods
      @ReadThrough('g')
      get value(): Promise<string> {
        return Promise.resolve('x');
      }
    }
    const getter = await bootstrapError({ providers: [Getter] });
    expect(isDistCacheError(getter, 'E_INVALID_OPTION')).toBe(true);
    expect(getter.message).toBe(
      "@ReadThrough('g') on Getter.value: Getter.value is a getter or setter, not an instance method, so " +
        'the decorator would have no effect. Make it an async method of the class, async value(...) { ... }, ' +
        'and call it on the injected provider',
    );

    @Injectable()
    class Arrow {
      // @ts-expect-error the decorator's type accepts only methods
      @CacheEvict('products')
      remove = async (_id: number): Promise<void> => undefined;
    }
    const arrow = await bootstrapError({ providers: [Counter, ProductsService, Arrow] });
    expect(arrow.message).toMatch(
      /^@CacheEvict\('products'\) on Arrow\.remove: Arrow\.remove is a property \(an arrow function/,
    );

    @Injectable()
    class Static {
      @CachePut('products')
      static async save(id: number): Promise<number> {
        return id;
      }
    }
    // Found on an ancestor too.
    @Injectable()
    class Derived extends Static {}
    const error = await bootstrapError({ providers: [Counter, ProductsService, Derived] });
    expect(error.message).toMatch(
      /^@CachePut\('products'\) on Derived\.save: Derived\.save is a static method, not an instance method/,
    );
  });

  it('isGlobal returned by a forRootAsync factory names where it belongs', async () => {
    const error = await compileError({
      // @ts-expect-error the options type has no isGlobal; a loosely typed config object gets past it
      imports: [DistCacheModule.forRootAsync({ useFactory: () => ({ isGlobal: true }) })],
    });
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toMatch(
      /^Invalid option "isGlobal": .*DistCacheModule\.forRootAsync\(\{ isGlobal: true, imports, inject, useFactory \}\)$/,
    );
  });

  it('module options that are not an object say so, not with a TypeError', async () => {
    const rejected = (make: () => unknown): unknown => {
      try {
        make();
      } catch (error) {
        return error;
      }
      throw new Error('accepted but was expected to fail');
    };
    for (const options of [null, undefined]) {
      const error = rejected(() => DistCacheModule.forRoot(options as unknown as DistCacheModuleOptions));
      expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toBe(
        `Invalid option "options": DistCacheModule.forRoot() takes an object of engine options (got ` +
          `${String(options)}); forRoot({}) makes a standalone node with every default`,
      );
    }
    const noFactory = rejected(() => DistCacheModule.forRootAsync({ imports: [] }));
    expect(isDistCacheError(noFactory, 'E_INVALID_OPTION')).toBe(true);
    expect((noFactory as Error).message).toBe(
      'Invalid option "options": DistCacheModule.forRootAsync() takes { imports?, inject?, isGlobal? } ' +
        'and exactly one of useFactory, useClass or useExisting (got {"imports":[]})',
    );
    // Two ways: Nest would use one and ignore the other.
    class Options {
      createDistCacheOptions(): DistCacheModuleOptions {
        return {};
      }
    }
    const twoWays = rejected(() =>
      DistCacheModule.forRootAsync({ useFactory: () => ({}), useClass: Options }),
    );
    expect(isDistCacheError(twoWays, 'E_INVALID_OPTION')).toBe(true);
    expect((twoWays as Error).message).toContain('exactly one of useFactory, useClass or useExisting');

    const error = await compileError({
      imports: [
        DistCacheModule.forRootAsync({
          useFactory: () => undefined as unknown as DistCacheModuleOptions,
        }),
      ],
    });
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toBe(
      'Invalid option "options": the options of DistCacheModule.forRootAsync() must be an object of ' +
        'engine options, but its useFactory (or the createDistCacheOptions() of its useClass or ' +
        'useExisting) returned undefined. Does the factory return them? (useFactory: (config) => ' +
        '({ port: ... }), with parentheses around the object)',
    );
  });

  it('invalid module options fail when the module is compiled, naming the field', async () => {
    const error = await compileError({ imports: [DistCacheModule.forRoot({ port: 70_000 })] });
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain('port');
  });
});

describe('DistCacheModule is imported once per application', () => {
  it('a second forRoot() or forRootAsync() in a feature module fails, saying what to do', async () => {
    @Module({ imports: [DistCacheModule.forRoot({ nodeName: 'feature' })] })
    class FeatureModule {}
    const error = await compileError({
      providers: [Counter, ProductsService],
      imports: [DistCacheModule.forRoot({ isGlobal: true }), FeatureModule],
    });
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toBe(
      'DistCacheModule.forRoot() (or forRootAsync()) is imported 2 times in this application: one with ' +
        'isGlobal: true; one imported by FeatureModule. Each would start its own engine and wrap every ' +
        'decorated method again. Import it once, in the root module, with isGlobal: true so that every ' +
        'module can inject DistCacheService and the engine; or import it in one module of your own that ' +
        'exports DistCacheModule, and import that module where it is needed',
    );

    @Module({ imports: [DistCacheModule.forRootAsync({ useFactory: () => ({ nodeName: 'async' }) })] })
    class AsyncFeatureModule {}
    const async = await compileError({
      providers: [Counter, ProductsService],
      imports: [DistCacheModule.forRoot({}), AsyncFeatureModule],
    });
    expect(isDistCacheError(async, 'E_INVALID_OPTION')).toBe(true);
    expect((async as Error).message).toMatch(
      /^DistCacheModule\.forRoot\(\) \(or forRootAsync\(\)\) is imported 2 times in this application: one imported by RootTestModule; one imported by AsyncFeatureModule\./,
    );
  });

  it('one dynamic module imported in two places, and separate applications, are fine', async () => {
    const cache = DistCacheModule.forRoot({ nodeName: 'shared' });
    @Module({ imports: [cache], providers: [Counter, ProductsService], exports: [ProductsService] })
    class FeatureModule {}
    const shared = await Test.createTestingModule({ imports: [cache, FeatureModule] }).compile();
    const sharedApp = track(shared.createNestApplication());
    await sharedApp.init();
    // A second application in this process, with its own module and engine.
    const { app: other } = await start({ providers: [Counter, ProductsService] }, { nodeName: 'other' });
    const engine = sharedApp.get<DistCacheEngine>(DISTCACHE_ENGINE, { strict: false });
    expect(engine.options.nodeName).toBe('shared');
    expect(other.get<DistCacheEngine>(DISTCACHE_ENGINE).options.nodeName).toBe('other');
    const products = sharedApp.get(ProductsService, { strict: false });
    expect(await products.find(1)).toEqual({ id: 1, call: 1 });
    expect(await products.find(1)).toEqual({ id: 1, call: 1 });
    expect(await other.get(ProductsService).find(1)).toEqual({ id: 1, call: 1 });
    expect(engine.stats().keySpaces.products?.misses).toBe(1);
  });
});

describe('providers the module cannot serve get a warning, not a crash', () => {
  it('request-scoped and transient providers are left alone with a warning', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      calls = 0;

      @ReadThrough('per-request')
      async find(id: string): Promise<string> {
        this.calls += 1;
        return id;
      }
    }
    @Injectable({ scope: Scope.TRANSIENT })
    class Transient {
      @CacheEvict('products')
      async remove(_id: number): Promise<void> {}
    }
    const { app, logger } = await start({ providers: [Counter, ProductsService, PerRequest, Transient] });
    expect(logger.warnings()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PerRequest is request-scoped: its distcache decorators are ignored/),
        expect.stringMatching(/^Transient is transient: its distcache decorators are ignored/),
      ]),
    );
    expect(app.get(DistCacheService).keySpaces()).toEqual(['products']);
  });

  it('a provider that depends on a request-scoped one is named as such', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class RequestContext {}
    @Injectable()
    class UsesContext {
      constructor(readonly context: RequestContext) {}

      @ReadThrough('ctx')
      async find(id: string): Promise<string> {
        return id;
      }
    }
    const { logger } = await start({ providers: [RequestContext, UsesContext] });
    expect(logger.warnings()).toContainEqual(
      expect.stringMatching(/^UsesContext is request-scoped through a dependency/),
    );
  });

  it('a controller method with @ReadThrough is reported and not wired', async () => {
    @Controller('things')
    class ThingsController {
      @Get()
      @ReadThrough('things')
      async list(): Promise<string[]> {
        return [];
      }
    }
    const { app, logger } = await start({ controllers: [ThingsController] });
    expect(logger.warnings()).toContainEqual(
      expect.stringMatching(/^ThingsController is a controller: its distcache decorators are ignored/),
    );
    expect(app.get(DistCacheService).keySpaces()).toEqual([]);
  });
});
