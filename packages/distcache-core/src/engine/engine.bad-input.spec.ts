import { afterEach, describe, expect, it } from 'vitest';
import { type DistCacheErrorCode } from '../errors/error-codes';
import { isDistCacheError } from '../errors/distcache-error';
import type { DistCacheEngine } from './engine';
import { rejectionOf, startedEngine } from '../../test/support/engine.fixture';

let engine: DistCacheEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

async function expectCode(promise: Promise<unknown>, code: DistCacheErrorCode, message?: RegExp) {
  const error = await rejectionOf(promise);
  expect(isDistCacheError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  if (message !== undefined) expect((error as Error).message).toMatch(message);
}

/** Puts known entries, runs the bad call, and checks that nothing stored changed. */
async function unchangedAfter(
  engine: DistCacheEngine,
  bad: () => Promise<unknown>,
  code: DistCacheErrorCode,
) {
  await engine.put('products', 'keep', { v: 1 });
  const before = engine.stats().keySpaces.products!;
  await expectCode(bad(), code);
  const after = engine.stats().keySpaces.products!;
  expect({ items: after.items, bytes: after.bytes }).toEqual({ items: before.items, bytes: before.bytes });
  expect(await engine.get('products', 'keep')).toEqual({ v: 1 });
}

describe('bad input gets a typed error and changes nothing', () => {
  it('unknown keyspace', async () => {
    engine = (await startedEngine()).engine;
    await expectCode(engine.get('nope', '1'), 'E_KEYSPACE_NOT_FOUND', /"nope"/);
    await expectCode(engine.put('nope', '1', 1), 'E_KEYSPACE_NOT_FOUND');
    await expectCode(engine.delete('nope', '1'), 'E_KEYSPACE_NOT_FOUND');
    await expectCode(engine.deleteKeySpace('nope'), 'E_KEYSPACE_NOT_FOUND');
    // The message lists what is registered, and names the one meant when it looks like a typo.
    await expectCode(
      engine.get('product', '1'),
      'E_KEYSPACE_NOT_FOUND',
      /^Keyspace "product" is not registered \(registered: "products"\); did you mean "products"\?$/,
    );
    await expectCode(engine.get('users', '1'), 'E_KEYSPACE_NOT_FOUND', /\(registered: "products"\)$/);
    // ownerOf answers only what a get could use.
    expect(() => engine!.ownerOf('nope', '1')).toThrow(
      expect.objectContaining({ code: 'E_KEYSPACE_NOT_FOUND' }),
    );
    expect(() => engine!.ownerOf('products', 42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_KEY' }),
    );
    expect(engine.ownerOf('products', '1')).toBe(engine.peers()[0]!.id);
  });

  it('empty key, non-string key and key over maxKeyBytes', async () => {
    engine = (await startedEngine({}, { maxKeyBytes: 16 })).engine;
    await expectCode(engine.get('products', ''), 'E_INVALID_KEY', /empty/);
    await expectCode(engine.get('products', 42 as unknown as string), 'E_INVALID_KEY', /string/);
    await expectCode(engine.get('products', 'k'.repeat(17)), 'E_INVALID_KEY', /maxKeyBytes \(16\)/);
    // Six characters, but 18 bytes of UTF-8.
    await expectCode(engine.get('products', '€€€€€€'), 'E_INVALID_KEY', /maxKeyBytes/);
    expect(await engine.get('products', 'k'.repeat(16))).toBeUndefined();
    await unchangedAfter(engine, () => engine!.put('products', 'x'.repeat(17), 1), 'E_INVALID_KEY');
  });

  it('keys with a lone surrogate are refused on every API (they would collide on the wire)', async () => {
    engine = (await startedEngine()).engine;
    for (const key of ['user\uD800', 'user\uDC00', '\uDBFFx']) {
      await expectCode(engine.get('products', key), 'E_INVALID_KEY', /well-formed UTF-16/);
      await expectCode(engine.getMany('products', ['ok', key]), 'E_INVALID_KEY');
      await expectCode(engine.delete('products', key), 'E_INVALID_KEY');
      await expectCode(engine.deleteMany('products', [key]), 'E_INVALID_KEY');
      await unchangedAfter(engine, () => engine!.put('products', key, 1), 'E_INVALID_KEY');
    }
    // A surrogate pair is well-formed.
    await engine.put('products', 'user\uD83D\uDD11', 'key emoji');
    expect(await engine.get('products', 'user\uD83D\uDD11')).toBe('key emoji');
  });

  it('a bad key in a batch rejects the whole batch before any change', async () => {
    engine = (await startedEngine()).engine;
    await unchangedAfter(
      engine,
      () =>
        engine!.putMany<unknown>('products', [
          { key: 'keep', value: { v: 2 } },
          { key: '', value: 1 },
        ]),
      'E_INVALID_KEY',
    );
    await unchangedAfter(engine, () => engine!.deleteMany('products', ['keep', '']), 'E_INVALID_KEY');
    await expectCode(engine.getMany('products', ['1', '']), 'E_INVALID_KEY');
  });

  it('a misspelt per-call option or putMany entry field is refused with the field named, as in the constructor', async () => {
    engine = (await startedEngine()).engine;
    const e = engine;
    // Before, `ttll` was ignored and the entry stored without expiry.
    await unchangedAfter(
      e,
      () => e.put('products', 'p1', { v: 2 }, { ttll: 50 } as never),
      'E_INVALID_OPTION',
    );
    await expectCode(
      e.put('products', 'p1', { v: 2 }, { ttll: 50 } as never),
      'E_INVALID_OPTION',
      /Invalid option "options\.ttll": is not a known put option; did you mean "ttl"\?/,
    );
    await unchangedAfter(
      e,
      () => e.putMany('products', [{ key: 'p2', value: 1, tll: '1m' } as never]),
      'E_INVALID_OPTION',
    );
    await expectCode(
      e.putMany('products', [{ key: 'p2', value: 1 }, { key: 'p3', value: 1, tll: '1m' } as never]),
      'E_INVALID_OPTION',
      /"entries\[1\]\.tll": is not a known putMany entry field; did you mean "ttl"\?/,
    );
    await expectCode(
      e.get('products', 'keep', { timout: 10 } as never),
      'E_INVALID_OPTION',
      /"options\.timout": is not a known call option; did you mean "timeout"\?/,
    );
    await expectCode(e.getMany('products', ['keep'], { signl: undefined } as never), 'E_INVALID_OPTION');
    await unchangedAfter(e, () => e.delete('products', 'keep', { timeOut: 5 } as never), 'E_INVALID_OPTION');
    await expectCode(e.deleteByTags('products', ['t'], { ttl: '1m' } as never), 'E_INVALID_OPTION');
    // The known fields, and no options at all, still work.
    await e.put('products', 'p4', { v: 4 }, { ttl: '1m', timeout: '1s', signal: undefined });
    await e.putMany('products', [{ key: 'p5', value: { v: 5 }, ttl: 1000, tags: undefined }], {
      timeout: 1000,
    });
    expect(await e.getMany('products', ['p4', 'p5'], { timeout: '1s' })).toEqual(
      new Map([
        ['p4', { v: 4 }],
        ['p5', { v: 5 }],
      ]),
    );
    expect(engine.stats().keySpaces.products?.items).toBe(3);
  });

  it('undefined as a value', async () => {
    engine = (await startedEngine()).engine;
    await unchangedAfter(engine, () => engine!.put('products', 'keep', undefined), 'E_INVALID_VALUE');
  });

  it('a value the codec cannot encode', async () => {
    engine = (await startedEngine()).engine;
    await unchangedAfter(engine, () => engine!.put('products', 'keep', { fn: () => 1 }), 'E_INVALID_VALUE');
  });

  it('a value whose getter or proxy trap throws, and a putMany entry that is not an object', async () => {
    engine = (await startedEngine()).engine;
    const throwing = Object.defineProperty({}, 'price', {
      enumerable: true,
      get() {
        throw new Error('lazy field failed');
      },
    });
    await unchangedAfter(engine, () => engine!.put('products', 'x', throwing), 'E_INVALID_VALUE');
    const trap = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('trap');
        },
      },
    );
    await unchangedAfter(engine, () => engine!.put('products', 'x', trap), 'E_INVALID_VALUE');
    await unchangedAfter(
      engine,
      () => engine!.putMany('products', [null as unknown as { key: string; value: unknown }]),
      'E_INVALID_KEY',
    );
  });

  it('a value over the size limits', async () => {
    engine = (await startedEngine({ maxValueBytes: 256 })).engine;
    await unchangedAfter(engine, () => engine!.put('products', 'keep', 'x'.repeat(300)), 'E_VALUE_TOO_LARGE');
    await unchangedAfter(
      engine,
      () =>
        engine!.putMany<unknown>('products', [
          { key: 'keep', value: 1 },
          { key: 'big', value: 'x'.repeat(300) },
        ]),
      'E_VALUE_TOO_LARGE',
    );
  });

  it('a value whose strings alone are over maxValueBytes, refused before it is encoded', async () => {
    engine = (await startedEngine({ maxValueBytes: 1024 })).engine;
    // The function makes encoding fail: E_VALUE_TOO_LARGE proves the codec never ran.
    const unencodable = { text: 'x'.repeat(2000), fn: () => 1 };
    await expectCode(
      engine.put<unknown>('products', 'big', unencodable),
      'E_VALUE_TOO_LARGE',
      /at least 2000 bytes encoded, over maxValueBytes \(1024 bytes\); refused before encoding/,
    );
    await expectCode(
      engine.putMany<unknown>('products', [
        { key: 'big', value: [Buffer.alloc(600), 'y'.repeat(600), Symbol('s')] },
      ]),
      'E_VALUE_TOO_LARGE',
    );
    // Under the limit, the codec runs and reports what it cannot encode.
    await expectCode(engine.put<unknown>('products', 'small', { text: 'x', fn: () => 1 }), 'E_INVALID_VALUE');
  });

  it('an unparsable or negative ttl on put', async () => {
    engine = (await startedEngine()).engine;
    await unchangedAfter(
      engine,
      () => engine!.put('products', 'keep', 2, { ttl: '-1s' as '1s' }),
      'E_INVALID_OPTION',
    );
    await unchangedAfter(
      engine,
      () => engine!.put('products', 'keep', 2, { ttl: 'soon' as '1s' }),
      'E_INVALID_OPTION',
    );
    // Named as the caller wrote it: put's options, not the putMany entry put builds from them.
    await expectCode(
      engine.put('products', 'keep', 2, { ttl: '5 minutes' as '1s' }),
      'E_INVALID_OPTION',
      /^Invalid option "options\.ttl": /,
    );
  });

  it('an unparsable call timeout, on a miss and on a hit', async () => {
    engine = (await startedEngine()).engine;
    await expectCode(engine.get('products', '1', { timeout: -5 }), 'E_INVALID_OPTION', /timeout/);
    await engine.get('products', '1');
    await expectCode(engine.get('products', '1', { timeout: 'soon' as '1s' }), 'E_INVALID_OPTION', /timeout/);
  });

  it('a signal that is not an AbortSignal, on every call that takes one', async () => {
    engine = (await startedEngine()).engine;
    const unhandled: unknown[] = [];
    const record = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      for (const signal of ['no', {}, { aborted: false }]) {
        const options = { signal } as unknown as { signal: AbortSignal };
        const current = engine;
        for (const call of [
          () => current.get('products', 'missing-key', options),
          () => current.get('products', 'keep', options),
          () => current.getMany('products', ['missing-a', 'missing-b'], options),
          () => current.put('products', 'new-key', { v: 2 }, options),
          () => current.delete('products', 'keep', options),
          () => current.deleteByTags('products', ['t'], options),
        ]) {
          await unchangedAfter(current, call, 'E_INVALID_OPTION');
        }
      }
      // null reads as no signal (as fetch() takes it).
      const none = { signal: null } as unknown as { signal: AbortSignal };
      await engine.put('products', 'null-signal', { v: 3 }, none);
      expect(await engine.get('products', 'null-signal', none)).toEqual({ v: 3 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('invalid keyspace definitions at runtime', async () => {
    engine = (await startedEngine()).engine;
    expect(() => engine!.addKeySpace({ name: 'bad name!' })).toThrow(/keySpace.name/);
    expect(() => engine!.addKeySpace({ name: 'x', maxBytes: 0 })).toThrow(/maxBytes/);
    expect(() => engine!.addKeySpace({ name: 'x', ttl: '-1m' })).toThrow(/ttl/);
    expect(engine.keySpaces()).toEqual(['products']);
  });
});
