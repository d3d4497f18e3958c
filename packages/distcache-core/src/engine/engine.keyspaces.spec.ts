import { afterEach, describe, expect, it } from 'vitest';
import { jsonCodec } from '../codec/json.codec';
import { isDistCacheError } from '../errors/distcache-error';
import type { DistCacheEngine } from './engine';
import type { KeySpaceEvent } from './engine.events';
import { type Product, rejectionOf, startedEngine } from '../../test/support/engine.fixture';

let engine: DistCacheEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe('keyspaces at runtime', () => {
  it('adds a keyspace, uses it, lists it and emits an event', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    const events: KeySpaceEvent[] = [];
    engine.on('keySpace', (event) => events.push(event));
    engine.addKeySpace<string>({ name: 'users', dataSource: (key) => `user ${key}` });
    expect(await engine.get('users', '7')).toBe('user 7');
    expect(engine.keySpaces()).toEqual(['products', 'users']);
    expect(events).toEqual([{ type: 'added', name: 'users' }]);
  });

  it('refuses a duplicate keyspace with E_KEYSPACE_EXISTS and keeps the original', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.get('products', '1');
    expect(() => engine!.addKeySpace({ name: 'products' })).toThrow(
      expect.objectContaining({ code: 'E_KEYSPACE_EXISTS' }),
    );
    expect(engine.stats().keySpaces.products!.items).toBe(1);
  });

  it('updates a keyspace keeping entries when the codec is unchanged, with the new settings in stats', async () => {
    const setup = await startedEngine({ ttl: '1h' });
    engine = setup.engine;
    await engine.get('products', '1');
    engine.updateKeySpace({ name: 'products', ttl: '10m', dataSource: setup.source });
    expect(engine.stats().keySpaces.products).toMatchObject({ items: 1, config: { ttlMs: 600_000 } });
    await engine.get('products', '1');
    expect(setup.source.callsFor('1')).toBe(1);
  });

  it("hands out private copies of values held frozen once an update switches to valueMode 'copy'", async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.get('products', '1');
    const frozen = await engine.get<Product>('products', '1');
    expect(Object.isFrozen(frozen)).toBe(true);
    engine.updateKeySpace({ name: 'products', valueMode: 'copy', dataSource: setup.source });
    const own = (await engine.get<Product>('products', '1'))!;
    expect(Object.isFrozen(own)).toBe(false);
    expect(own).toEqual(frozen);
    expect(setup.source.callsFor('1')).toBe(1);
  });

  it('drops entries when an update changes the codec', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    await engine.put('products', 'k', { a: 1 });
    engine.updateKeySpace({ name: 'products', codec: jsonCodec(), dataSource: setup.source });
    expect(engine.stats().keySpaces.products).toMatchObject({ items: 0, config: { codec: 'json' } });
  });

  it('shrinks the budget on update, evicting least recently used entries', async () => {
    const setup = await startedEngine({
      dataSource: (key) => ({ key, pad: 'x'.repeat(1_000) }) as unknown as Product,
    });
    engine = setup.engine;
    for (const key of ['a', 'b', 'c', 'd']) await engine.get('products', key);
    engine.updateKeySpace({ name: 'products', maxBytes: 2_800, dataSource: setup.source });
    const stats = engine.stats().keySpaces.products!;
    expect(stats.items).toBe(2);
    expect(stats.bytes).toBeLessThanOrEqual(2_800);
  });

  it('refuses to update an unknown keyspace', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    expect(() => engine!.updateKeySpace({ name: 'nope' })).toThrow(
      expect.objectContaining({ code: 'E_KEYSPACE_NOT_FOUND' }),
    );
  });

  it('deletes keyspaces with their entries; later gets fail with E_KEYSPACE_NOT_FOUND', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    engine.addKeySpace({ name: 'a' });
    engine.addKeySpace({ name: 'b' });
    await engine.get('products', '1');
    const events: KeySpaceEvent[] = [];
    engine.on('keySpace', (event) => events.push(event));
    await engine.deleteKeySpace('products');
    await engine.deleteKeySpaces(['a', 'b']);
    expect(engine.keySpaces()).toEqual([]);
    expect(events.map((event) => `${event.type}:${event.name}`)).toEqual([
      'deleted:products',
      'deleted:a',
      'deleted:b',
    ]);
    expect(isDistCacheError(await rejectionOf(engine.get('products', '1')), 'E_KEYSPACE_NOT_FOUND')).toBe(
      true,
    );
  });

  it('deleteKeySpaces checks every name before deleting any', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    const error = await rejectionOf(engine.deleteKeySpaces(['products', 'missing']));
    expect(isDistCacheError(error, 'E_KEYSPACE_NOT_FOUND')).toBe(true);
    expect(engine.keySpaces()).toEqual(['products']);
  });

  it('a keyspace without a data source is a plain cache: a miss is undefined', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    engine.addKeySpace({ name: 'sessions', ttl: '30m' });
    expect(await engine.get('sessions', 's1')).toBeUndefined();
    await engine.put('sessions', 's1', { user: 1 });
    expect(await engine.get('sessions', 's1')).toEqual({ user: 1 });
  });
});
