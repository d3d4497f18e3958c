// How decorated providers are wired on one standalone node: keys, metadata of other decorators,
// @KeySpace features, cache writes, the load signal, events, lifecycle and module options.
import { Injectable, Module, SetMetadata } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { type DistCacheEngine, type FetchContext, isDistCacheError, staticDiscovery } from 'distcache-core';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  CacheEvict,
  CachePut,
  currentFetchContext,
  DISTCACHE_ENGINE,
  DistCacheModule,
  type DistCacheModuleOptions,
  type DistCacheOptionsFactory,
  DistCacheService,
  KeySpace,
  type KeySpaceProvider,
  NestLoggerAdapter,
  ReadThrough,
} from '../src';
import {
  closeStarted,
  Counter,
  createStandaloneApp,
  ProductsService,
  startStandalone as start,
  track,
} from './support/standalone';
import { freePorts } from './support/net';

afterEach(closeStarted);

describe('wiring', () => {
  it('a single number argument is the key; the owner gets a number back; the service reads the same entry', async () => {
    const { app } = await start({ providers: [Counter, ProductsService] });
    const products = app.get(ProductsService);
    const counter = app.get(Counter);
    expect(await products.find(42)).toEqual({ id: 42, call: 1 });
    expect(await products.find(42)).toEqual({ id: 42, call: 1 });
    expect(counter.calls).toEqual([[42]]);
    expect(await app.get(DistCacheService).get('products', '42')).toEqual({ id: 42, call: 1 });
    await app.get(DistCacheService).delete('products', '42');
    expect(await products.find(42)).toEqual({ id: 42, call: 2 });
  });

  it('metadata of other decorators on the same method survives, and ours survives theirs', async () => {
    // A decorator that replaces the method (dropping what was attached to the old function), as
    // some libraries' do: above or below @ReadThrough, the method is still wired.
    const Wrapping = (): MethodDecorator => (_target, _key, descriptor) => {
      const inner = descriptor.value as unknown as (...args: unknown[]) => unknown;
      (descriptor as PropertyDescriptor).value = function (this: unknown, ...args: unknown[]) {
        return inner.apply(this, args);
      };
    };
    @Injectable()
    class Decorated {
      constructor(private readonly counter: Counter) {}

      @SetMetadata('role', 'admin')
      @ReadThrough('above')
      @Wrapping()
      async above(id: string): Promise<number> {
        return this.counter.record('above', id);
      }

      @SetMetadata('role', 'reader')
      @Wrapping()
      @ReadThrough('below')
      async below(id: string): Promise<number> {
        return this.counter.record('below', id);
      }
    }
    const { app } = await start({ providers: [Counter, Decorated] });
    const decorated = app.get(Decorated);
    const reflector = app.get(Reflector);
    expect(reflector.get<string>('role', decorated.above)).toBe('admin');
    expect(reflector.get<string>('role', decorated.below)).toBe('reader');
    expect(decorated.above.name).toBe('above');
    for (let i = 0; i < 3; i += 1) {
      expect(await decorated.above('x')).toBe(1);
      expect(await decorated.below('x')).toBe(2);
    }
    expect(app.get(DistCacheService).keySpaces().sort()).toEqual(['above', 'below']);
  });

  it('the same class provided in two modules shares one keyspace, both instances cached', async () => {
    @Module({ providers: [Counter, ProductsService], exports: [ProductsService] })
    class FirstModule {}
    @Module({ providers: [Counter, ProductsService], exports: [ProductsService] })
    class SecondModule {}
    const { app } = await start({ imports: [FirstModule, SecondModule] });
    const first = app.select(FirstModule).get(ProductsService, { strict: true });
    const second = app.select(SecondModule).get(ProductsService, { strict: true });
    expect(first).not.toBe(second);
    expect(await first.find(7)).toEqual({ id: 7, call: 1 });
    expect(await second.find(7)).toEqual({ id: 7, call: 1 });
  });

  it('a @KeySpace provider gets DI, fetchMany for getMany and warmKeys() at start', async () => {
    @KeySpace({ name: 'users', ttl: '1m' })
    @Injectable()
    class UsersSource implements KeySpaceProvider<string> {
      constructor(private readonly counter: Counter) {}

      async fetch(id: string, context: FetchContext): Promise<string> {
        this.counter.record('fetch', id, context.keySpace);
        return `user ${id}`;
      }

      async fetchMany(ids: readonly string[]): Promise<Map<string, string>> {
        this.counter.record('fetchMany', ...ids);
        return new Map(ids.map((id) => [id, `user ${id}`]));
      }

      warmKeys(): string[] {
        return ['w1'];
      }
    }
    const { app } = await start({ providers: [Counter, UsersSource] });
    const cache = app.get(DistCacheService);
    const counter = app.get(Counter);
    expect(counter.calls).toEqual([['fetch', 'w1', 'users']]);
    expect(await cache.get('users', 'w1')).toBe('user w1');
    expect([...(await cache.getMany<string>('users', ['a', 'b', 'w1'])).values()]).toEqual([
      'user a',
      'user b',
      'user w1',
    ]);
    expect(counter.calls).toEqual([
      ['fetch', 'w1', 'users'],
      ['fetchMany', 'a', 'b'],
    ]);
  });

  it('@CachePut stores the result; a result of undefined evicts instead', async () => {
    @Injectable()
    class Writer {
      @CachePut('products', { key: (id: number) => String(id), ttl: '1m' })
      async save(id: number, deleted = false): Promise<{ id: number; call: number } | undefined> {
        return deleted ? undefined : { id, call: 99 };
      }
    }
    const { app } = await start({ providers: [Counter, ProductsService, Writer] });
    const products = app.get(ProductsService);
    await app.get(Writer).save(5);
    expect(await products.find(5)).toEqual({ id: 5, call: 99 });
    await app.get(Writer).save(5, true);
    expect(await products.find(5)).toEqual({ id: 5, call: 1 });
  });

  it('@CacheEvict with a key function returning several keys; a throwing method evicts nothing', async () => {
    @Injectable()
    class Writer {
      @CacheEvict('products', { key: (ids: number[]) => ids.map(String) })
      async removeAll(ids: number[], fail = false): Promise<void> {
        if (fail) throw new Error(`cannot remove ${ids.length}`);
      }
    }
    const { app } = await start({ providers: [Counter, ProductsService, Writer] });
    const products = app.get(ProductsService);
    await products.find(1);
    await products.find(2);
    await expect(app.get(Writer).removeAll([1, 2], true)).rejects.toThrow('cannot remove 2');
    expect(await products.find(1)).toEqual({ id: 1, call: 1 });
    await app.get(Writer).removeAll([1, 2]);
    expect(await products.find(1)).toEqual({ id: 1, call: 3 });
    expect(await products.find(2)).toEqual({ id: 2, call: 4 });
  });

  it('before bootstrap and after shutdown, calls go straight to the method', async () => {
    const { app } = await createStandaloneApp({ providers: [Counter, ProductsService] });
    const products = app.get(ProductsService);
    expect(await products.find(1)).toEqual({ id: 1, call: 1 }); // not initialised: the plain method
    await app.init();
    expect(await products.find(1)).toEqual({ id: 1, call: 2 });
    expect(await products.find(1)).toEqual({ id: 1, call: 2 });
    await app.close();
    expect(app.get<DistCacheEngine>(DISTCACHE_ENGINE).state).toBe('stopped');
    expect(await products.find(1)).toEqual({ id: 1, call: 3 });
  });

  it('calls waiting on loads when the app shuts down are finished by one run of the method per key, not failed', async () => {
    @Injectable()
    class Draining {
      calls: string[] = [];

      @ReadThrough('draining')
      async find(id: string): Promise<{ id: string; from: string; tags: string[] }> {
        const context = currentFetchContext();
        this.calls.push(`${id} ${context?.signal.aborted === false ? 'with a live signal' : 'without'}`);
        if (this.calls.length <= 2) {
          // The engine's loads: they wait until the engine's stop aborts them.
          await new Promise((resolve) => context?.signal.addEventListener('abort', resolve, { once: true }));
          return { id, from: 'the aborted load', tags: [] };
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { id, from: 'the method', tags: [] };
      }
    }
    const { app } = await createStandaloneApp({ providers: [Draining] });
    await app.init();
    const draining = app.get(Draining);
    const pending = [
      draining.find('x'),
      draining.find('x'),
      draining.find('x'),
      draining.find('y'),
      draining.find('y'),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    expect(draining.calls).toEqual(['x with a live signal', 'y with a live signal']); // the loads run
    const closing = app.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    // A call made after the stop, while the run for its key goes on, joins it.
    pending.push(draining.find('x'));
    await closing;
    const results = await Promise.all(pending);
    expect(results.map(({ id, from }) => `${id} from ${from}`)).toEqual([
      'x from the method',
      'x from the method',
      'x from the method',
      'y from the method',
      'y from the method',
      'x from the method',
    ]);
    // One run per key after the stop (the 4 + 2 callers each ran it before), each with a context
    // whose signal the read timeout would abort.
    expect(draining.calls.slice(2).sort()).toEqual(['x with a live signal', 'y with a live signal']);
    // Each caller has an object of its own, as each had when every call ran the method.
    expect(new Set(results).size).toBe(results.length);
    results[0]!.tags.push('mutated');
    expect(results[1]!.tags).toEqual([]);
  });

  it('a method that hangs after the app shut down fails its waiting calls at the read timeout, its signal aborted', async () => {
    @Injectable()
    class Hanging {
      calls = 0;
      aborted: unknown[] = [];

      @ReadThrough('hanging', { readTimeout: 300 })
      async find(id: string): Promise<string> {
        this.calls += 1;
        const context = currentFetchContext();
        context?.signal.addEventListener('abort', () => this.aborted.push(context.signal.reason), {
          once: true,
        });
        // Never settles: neither the engine's load nor the run after the stop.
        return new Promise<string>(() => undefined).then(() => id);
      }
    }
    const { app } = await createStandaloneApp({ providers: [Hanging] });
    await app.init();
    const hanging = app.get(Hanging);
    const pending = [hanging.find('x'), hanging.find('x')].map((call) =>
      call.catch((error: unknown) => error),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(hanging.calls).toBe(1);
    const stoppedAt = performance.now();
    await app.close();
    const [first, second] = await Promise.all(pending);
    expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(290);
    expect(first).toBe(second); // one run, one outcome for both callers
    expect(isDistCacheError(first, 'E_DATASOURCE_TIMEOUT')).toBe(true);
    expect((first as Error).message).toBe(
      'Data source of keyspace "hanging" did not answer for key "x" within 300ms (a call left waiting when the engine stopped, finished by the method)',
    );
    expect(hanging.calls).toBe(2);
    // The engine's load was aborted by the stop, the run after it by the timeout.
    expect(hanging.aborted).toHaveLength(2);
    expect(hanging.aborted[1]).toBe(first);
  });

  it('a hit served while another @ReadThrough load runs (its fetch context on) resolves', async () => {
    // While a load runs, the fetch context's AsyncLocalStorage turns Node 20's promise hooks on;
    // a hit then handed out a frozen promise made before they were on, the hook threw and the
    // process died (distcache-core test/package/async-context.spec.ts has the core case).
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    @Injectable()
    class Catalogue {
      calls = 0;

      @ReadThrough('catalogue')
      async find(id: string): Promise<{ id: string; call: number }> {
        this.calls += 1;
        if (id === 'slow') await held;
        return { id, call: this.calls };
      }
    }
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    onTestFinished(() => void process.off('uncaughtException', onUncaught));
    const { app } = await start({ providers: [Catalogue] });
    const catalogue = app.get(Catalogue);
    expect(await catalogue.find('a')).toEqual({ id: 'a', call: 1 });
    expect(await catalogue.find('a')).toEqual({ id: 'a', call: 1 });
    const slow = catalogue.find('slow');
    await new Promise((resolve) => setImmediate(resolve));
    expect(catalogue.calls).toBe(2); // the slow load runs
    const hits = await Promise.all([catalogue.find('a'), catalogue.find('a')]);
    expect(hits).toEqual([
      { id: 'a', call: 1 },
      { id: 'a', call: 1 },
    ]);
    release();
    expect(await slow).toEqual({ id: 'slow', call: 2 });
    expect(await catalogue.find('a')).toEqual({ id: 'a', call: 1 });
    expect(uncaught).toEqual([]);
  });

  it('isGlobal makes DistCacheService injectable in modules that do not import DistCacheModule', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly cache: DistCacheService) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}
    const { app } = await start({ imports: [FeatureModule] }, { isGlobal: true });
    expect(app.get(Consumer).cache).toBe(app.get(DistCacheService));
  });

  it('forRootAsync with useClass; the engine logs through Nest by default', async () => {
    @Injectable()
    class CacheConfig implements DistCacheOptionsFactory {
      createDistCacheOptions(): DistCacheModuleOptions {
        return { nodeName: 'from-use-class', keySpaces: [{ name: 'aside' }] };
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [DistCacheModule.forRootAsync({ useClass: CacheConfig })],
    }).compile();
    const app = track(moduleRef.createNestApplication({ logger: false }));
    await app.init();
    const engine = app.get<DistCacheEngine>(DISTCACHE_ENGINE);
    expect(engine.options.nodeName).toBe('from-use-class');
    expect(engine.options.logger).toBeInstanceOf(NestLoggerAdapter);
    const cache = app.get(DistCacheService);
    await cache.put('aside', 'k', { at: new Date(0) });
    expect(await cache.get('aside', 'k')).toEqual({ at: new Date(0) });
  });

  it('forRootAsync from ConfigService, as in the README: the port read from the environment is a string', async () => {
    const [port] = await freePorts(1);
    process.env.CACHE_PORT = String(port);
    process.env.CACHE_PEERS = `127.0.0.1:${port}`;
    onTestFinished(() => {
      delete process.env.CACHE_PORT;
      delete process.env.CACHE_PEERS;
    });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true }),
        DistCacheModule.forRootAsync({
          isGlobal: true,
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            port: Number(config.getOrThrow<string>('CACHE_PORT')),
            discovery: staticDiscovery({ peers: config.getOrThrow<string>('CACHE_PEERS').split(',') }),
          }),
        }),
      ],
    }).compile();
    const app = track(moduleRef.createNestApplication({ logger: false }));
    await app.init();
    const cache = app.get(DistCacheService);
    expect(cache.peers().map((peer) => peer.id)).toEqual([`127.0.0.1:${port}`]);
  });

  it('a @ReadThrough body sees the load signal, aborted when the read timeout passes', async () => {
    @Injectable()
    class Slow {
      readonly seen: Array<{ aborted: boolean; keySpace: string }> = [];

      @ReadThrough('slow', { readTimeout: 50 })
      async find(id: string): Promise<string> {
        const context = currentFetchContext()!;
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
        this.seen.push({ aborted: context.signal.aborted, keySpace: context.keySpace });
        return id;
      }
    }
    const { app } = await start({ providers: [Slow] });
    const error = await app
      .get(Slow)
      .find('x')
      .catch((e: unknown) => e);
    expect(isDistCacheError(error, 'E_DATASOURCE_TIMEOUT')).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(app.get(Slow).seen).toEqual([{ aborted: true, keySpace: 'slow' }]);
    expect(currentFetchContext()).toBeUndefined();
  });

  it('events$ reports the lifecycle and keyspace changes, and completes when the engine stops', async () => {
    const { app } = await createStandaloneApp({ providers: [Counter, ProductsService] });
    const cache = app.get(DistCacheService);
    const events = lastValueFrom(cache.events$.pipe(toArray()));
    await app.init();
    cache.addKeySpace({ name: 'runtime' });
    await cache.deleteKeySpace('runtime');
    await app.close();
    expect(await events).toEqual([
      { kind: 'keySpace', type: 'added', name: 'products' }, // by the explorer, at onModuleInit
      { kind: 'state', state: 'starting' },
      { kind: 'state', state: 'running' },
      { kind: 'keySpace', type: 'added', name: 'runtime' },
      { kind: 'keySpace', type: 'deleted', name: 'runtime' },
      { kind: 'state', state: 'stopping' },
      { kind: 'state', state: 'stopped' },
    ]);
  });
});
