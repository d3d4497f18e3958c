import { afterEach, describe, expect, it, vi } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import type { DistCacheEngine } from './engine';
import type { BreakerEvent, StaleEvent } from './engine.events';
import { type Product, product, rejectionOf, startedEngine } from '../../test/support/engine.fixture';

let engine: DistCacheEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  vi.useRealTimers();
});

describe('grace (stale-if-error)', () => {
  it('serves the expired value within grace while the source fails, and errors beyond grace', async () => {
    const setup = await startedEngine({ ttl: '1m', grace: '5m' });
    engine = setup.engine;
    const stale: StaleEvent[] = [];
    engine.on('stale', (event) => stale.push(event));
    await engine.get('products', '1');
    await setup.clock.advance(60_000);
    setup.source.failWith = new Error('db down');
    expect((await engine.get<Product>('products', '1'))?.id).toBe('1');
    expect(stale).toEqual([{ keySpace: 'products', key: '1', reason: 'E_DATASOURCE_FAILED' }]);
    expect(engine.stats().keySpaces.products).toMatchObject({ staleHits: 1, loads: 2, loadErrors: 1 });
    await setup.clock.advance(5 * 60_000);
    expect(isDistCacheError(await rejectionOf(engine.get('products', '1')), 'E_DATASOURCE_FAILED')).toBe(
      true,
    );
  });

  it('replaces the stale value when the source answers again', async () => {
    const setup = await startedEngine({ ttl: '1m', grace: '5m' });
    engine = setup.engine;
    await engine.get('products', '1');
    await setup.clock.advance(60_000);
    setup.source.data.set('1', { ...product('1'), name: 'renamed' });
    expect((await engine.get<Product>('products', '1'))?.name).toBe('renamed');
    expect((await engine.get<Product>('products', '1'))?.name).toBe('renamed');
    expect(setup.source.callsFor('1')).toBe(2);
  });

  it('serves stale within grace when the source times out', async () => {
    const setup = await startedEngine({ ttl: '1m', grace: '1h', readTimeout: '1s' });
    engine = setup.engine;
    await engine.get('products', '2');
    await setup.clock.advance(60_000);
    setup.source.hang = true;
    const read = engine.get<Product>('products', '2');
    await setup.clock.advance(1_000);
    expect((await read)?.id).toBe('2');
  });
});

describe('stale-while-revalidate', () => {
  it('returns the stale value at once and refreshes it in the background', async () => {
    const setup = await startedEngine({ ttl: '1m', grace: '10m', staleWhileRevalidate: true });
    engine = setup.engine;
    await engine.get('products', '3');
    await setup.clock.advance(60_000);
    setup.source.data.set('3', { ...product('3'), name: 'fresh' });
    setup.source.hold();
    expect((await engine.get<Product>('products', '3'))?.name).toBe('Product 3');
    expect(setup.source.callsFor('3')).toBe(2);
    setup.source.release();
    await setup.clock.advance(0);
    expect((await engine.get<Product>('products', '3'))?.name).toBe('fresh');
    expect(engine.stats().keySpaces.products!.staleHits).toBe(1);
  });
});

describe('rate limits', () => {
  it('refuses loads over the keyspace limit with E_RATE_LIMITED, never calling the source', async () => {
    const setup = await startedEngine({ rateLimit: { perSecond: 2, burst: 2 } });
    engine = setup.engine;
    await engine.getMany('products', ['1', '2']);
    const error = await rejectionOf(engine.get('products', '3'));
    expect(isDistCacheError(error, 'E_RATE_LIMITED')).toBe(true);
    expect(setup.source.callsFor('3')).toBe(0);
    expect(engine.stats().keySpaces.products).toMatchObject({ rateLimited: 1, loads: 2 });
    await setup.clock.advance(500);
    expect((await engine.get<Product>('products', '3'))?.id).toBe('3');
  });

  it('shares one engine-wide bucket between every keyspace', async () => {
    const setup = await startedEngine({}, { sharedRateLimit: { perSecond: 3, burst: 3 } });
    engine = setup.engine;
    engine.addKeySpace<string>({ name: 'users', dataSource: (key) => `user ${key}` });
    await engine.get('products', '1');
    await engine.get('users', 'a');
    await engine.get('products', '2');
    expect(isDistCacheError(await rejectionOf(engine.get('users', 'b')), 'E_RATE_LIMITED')).toBe(true);
    expect(isDistCacheError(await rejectionOf(engine.get('products', '3')), 'E_RATE_LIMITED')).toBe(true);
  });

  it('serves stale within grace when rate-limited', async () => {
    const setup = await startedEngine({ ttl: '1m', grace: '1h', rateLimit: { perSecond: 1, burst: 1 } });
    engine = setup.engine;
    await engine.get('products', '1');
    await setup.clock.advance(60_000); // one token back, and the entry is stale
    await engine.get('products', '2'); // spends it
    expect((await engine.get<Product>('products', '1'))?.id).toBe('1');
    expect(engine.stats().keySpaces.products).toMatchObject({ staleHits: 1, rateLimited: 1 });
  });
});

describe('circuit breaker in the engine', () => {
  it('opens after failures, answers E_CIRCUIT_OPEN without calling the source, emits events, and closes on recovery', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const setup = await startedEngine({ circuitBreaker: { volumeThreshold: 3, resetTimeout: '10s' } });
    engine = setup.engine;
    const events: BreakerEvent[] = [];
    engine.on('breaker', (event) => events.push(event));
    setup.source.failWith = new Error('db down');
    for (const key of ['1', '2', '3']) await rejectionOf(engine.get('products', key));
    expect(engine.stats().keySpaces.products!.breaker).toBe('open');
    const calls = setup.source.calls.length;
    expect(isDistCacheError(await rejectionOf(engine.get('products', '4')), 'E_CIRCUIT_OPEN')).toBe(true);
    expect(setup.source.calls.length).toBe(calls);
    setup.source.failWith = undefined;
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await engine.get<Product>('products', '4'))?.id).toBe('4');
    expect(engine.stats().keySpaces.products).toMatchObject({ breaker: 'closed', circuitRejected: 1 });
    expect(events.map((event) => event.state)).toEqual(['open', 'half-open', 'closed']);
  });

  it('does not trip on "not found"', async () => {
    const setup = await startedEngine({ circuitBreaker: { volumeThreshold: 2 } });
    engine = setup.engine;
    for (let index = 0; index < 20; index += 1) await engine.get('products', `missing-${index}`);
    expect(engine.stats().keySpaces.products!.breaker).toBe('closed');
  });

  it('keeps breaker state across updateKeySpace unless the breaker settings change', async () => {
    const breaker = { volumeThreshold: 2, resetTimeout: '1h' } as const;
    const setup = await startedEngine({ circuitBreaker: breaker });
    engine = setup.engine;
    setup.source.failWith = new Error('down');
    for (const key of ['1', '2']) await rejectionOf(engine.get('products', key));
    expect(engine.stats().keySpaces.products!.breaker).toBe('open');
    engine.updateKeySpace({ name: 'products', dataSource: setup.source, circuitBreaker: breaker, ttl: '1m' });
    expect(engine.stats().keySpaces.products!.breaker).toBe('open');
    engine.updateKeySpace({
      name: 'products',
      dataSource: setup.source,
      circuitBreaker: { ...breaker, volumeThreshold: 3 },
    });
    expect(engine.stats().keySpaces.products!.breaker).toBe('closed');
  });

  it('shows the effective protection settings in stats', async () => {
    const setup = await startedEngine({ grace: '30s', circuitBreaker: true, rateLimit: { perSecond: 100 } });
    engine = setup.engine;
    expect(engine.stats().keySpaces.products!.config).toMatchObject({
      graceMs: 30_000,
      staleWhileRevalidate: false,
      circuitBreaker: {
        errorThresholdPercentage: 50,
        volumeThreshold: 5,
        resetTimeoutMs: 10_000,
        rollingWindowMs: 10_000,
      },
      rateLimit: { perSecond: 100, burst: 100, maxWaitMs: 0 },
    });
  });
});
