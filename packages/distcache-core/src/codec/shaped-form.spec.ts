import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { readOnlyDecoders } from './codec';
import { deepFreeze, isReadOnlyDatePrototype } from './deep-freeze';
import { compactAndMeasure } from './heap-size';
import { shapeListOf } from '../../test/support/shaped-bytes';
import { StringPool } from './string-pool';
import { structuredCodec } from './structured.codec';
import {
  cachedShapeBytes,
  compiledBuilderCount,
  decodeShaped,
  encodeShaped,
  MAX_CACHED_SHAPE_BYTES,
  MAX_CACHED_SHAPE_TEXT,
  MAX_COMPILED_BUILDERS,
  SHAPED,
} from './shaped-form';

/** Shaped-form bytes by hand: a shape list's text, its hash as given, then the value's bytes. */
function shaped(shapes: string, value: number[], hash = 1): Uint8Array {
  const text = Buffer.from(shapes);
  const head = Buffer.alloc(5);
  head[0] = SHAPED;
  head.writeUInt32LE(hash, 1);
  const length: number[] = [];
  let n = text.length;
  while (n > 0x7f) {
    length.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  length.push(n);
  return Buffer.concat([head, Buffer.from(length), text, Buffer.from(value)]);
}

// Tags, as shaped-form.ts numbers them.
const NULL = 0;
const TRUE = 2;
const INT32 = 4;
const ASCII = 6;
const UTF16 = 8;
const ARRAY = 10;
const OBJECT = 11;

describe('the shaped form', () => {
  it('reads hand-written bytes: an object of a shape, with padded (non-minimal) lengths', () => {
    const bytes = shaped('[["a","b"]]', [
      OBJECT,
      0x80,
      0x00,
      INT32,
      7,
      0,
      0,
      0,
      ASCII,
      0x82,
      0x00,
      0x68,
      0x69,
    ]);
    expect(decodeShaped(bytes)).toStrictEqual({ a: 7, b: 'hi' });
  });

  it('refuses malformed bytes with a TypeError, and allocates nothing for a length past the input', () => {
    const hostile: Array<[string, Uint8Array]> = [
      ['too short', Buffer.from([SHAPED, 0, 0])],
      ['shape list past the end', shaped('[]', []).subarray(0, 6)],
      ['no value', shaped('[]', [])],
      ['unknown tag', shaped('[]', [99])],
      ['cut int32', shaped('[]', [INT32, 1, 2])],
      ['string past the end', shaped('[]', [ASCII, 5, 0x61])],
      ['array of 2^32 - 1 elements', shaped('[]', [ARRAY, 0xff, 0xff, 0xff, 0xff, 0x0f])],
      ['a length over 5 bytes', shaped('[]', [ARRAY, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
      ['shape index out of range', shaped('[["a"]]', [OBJECT, 1, NULL])],
      ['object cut short', shaped('[["a","b"]]', [OBJECT, 0, NULL])],
      ['bytes after the value', shaped('[]', [NULL, NULL])],
      ['odd UTF-16', shaped('[]', [UTF16, 3, 0x61, 0, 0x62])],
      ['shape list not JSON', shaped('[["a"]', [NULL])],
      ['shape list not a list', shaped('{"a":1}', [NULL])],
      ['a shape not a list', shaped('["a"]', [NULL])],
      ['a key not a string', shaped('[[1]]', [OBJECT, 0, NULL])],
      ['a repeated key', shaped('[["a","a"]]', [OBJECT, 0, NULL, NULL])],
      ['nesting past 64', shaped('[]', [...new Array<number>(65).fill(0).flatMap(() => [ARRAY, 1]), NULL])],
    ];
    for (const [what, bytes] of hostile) expect(() => decodeShaped(bytes), what).toThrow(TypeError);
    // 64 levels are read.
    let back = decodeShaped(shaped('[]', [...new Array<number>(64).fill(0).flatMap(() => [ARRAY, 1]), TRUE]));
    for (let level = 0; level < 64; level++) back = (back as unknown[])[0];
    expect(back).toBe(true);
  });

  it('never lets a "__proto__" key reach an object: refused in a shape, left to V8 when written', () => {
    for (const reads of [1, 2, 3]) {
      for (let i = 0; i < reads; i++)
        expect(() => decodeShaped(shaped('[["__proto__"]]', [OBJECT, 0, OBJECT, 0, NULL]))).toThrow(
          TypeError,
        );
    }
    expect(encodeShaped(JSON.parse('{"__proto__":{"x":1}}'))).toBeUndefined();
    expect(({} as { x?: unknown }).x).toBeUndefined();
  });

  it('keeps keys that look like code as data, in the compiled builder as in the first read', () => {
    const keys = ['"}; globalThis.pwned = 1; ({"', '\\', '\u2028', '`${1}`', 'constructor', 'toString'];
    const value = Object.fromEntries(keys.map((key, index) => [key, index]));
    for (let read = 0; read < 3; read++)
      expect(decodeShaped(encodeShaped(value) as Buffer)).toStrictEqual(value);
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
  });

  it('reads a shape list again when another with the same hash was kept, and bounds what it keeps', () => {
    const one = shaped('[["x"]]', [OBJECT, 0, TRUE], 42);
    const other = shaped('[["y"]]', [OBJECT, 0, NULL], 42);
    for (let i = 0; i < 3; i++) {
      expect(decodeShaped(one)).toStrictEqual({ x: true });
      expect(decodeShaped(other)).toStrictEqual({ y: null });
    }
    // Many distinct lists: the cache starts over at its bound, and every value is still read.
    for (let i = 0; i < 4000; i++) {
      const key = `key-${i}-${'k'.repeat(40)}`;
      expect(decodeShaped(encodeShaped({ [key]: i }) as Buffer)).toStrictEqual({ [key]: i });
      expect(cachedShapeBytes()).toBeLessThanOrEqual(MAX_CACHED_SHAPE_BYTES);
    }
    // A list longer than MAX_CACHED_SHAPE_TEXT is read on every decode, not kept.
    const wide = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`field-${i}`, i]));
    expect(Buffer.byteLength(JSON.stringify(Object.keys(wide)))).toBeGreaterThan(MAX_CACHED_SHAPE_TEXT);
    for (let i = 0; i < 3; i++) expect(decodeShaped(encodeShaped(wide) as Buffer)).toStrictEqual(wide);
  });

  it('bounds the builders it compiles, whatever number of shapes the lists hold', () => {
    // Lists of 300 one-key shapes (under MAX_CACHED_SHAPE_TEXT each), each read twice: compiled. The
    // cache starts over within 18 such lists, after which 13 or more lists (3,900+ shapes) follow.
    let most = 0;
    for (let list = 0; list < 30; list++) {
      const value = Array.from({ length: 300 }, (_, i) => ({ [`l${list}-${i}`]: i }));
      const bytes = encodeShaped(value) as Buffer;
      expect(decodeShaped(bytes)).toStrictEqual(value);
      expect(decodeShaped(bytes)).toStrictEqual(value);
      most = Math.max(most, compiledBuilderCount());
    }
    expect(most).toBe(MAX_COMPILED_BUILDERS);
  });

  it('lists a shape once per value, also past the shapes the writer keeps per first key', () => {
    // 16 shapes whose first key is "id" fill its place in the writer's registry.
    for (let i = 0; i < 16; i++) encodeShaped({ id: 1, [`field${i}`]: 2 });
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i, name: 'n', price: i / 2 }));
    const bytes = encodeShaped(rows) as Buffer;
    expect(shapeListOf(bytes)).toEqual([['id', 'name', 'price']]);
    expect(bytes.length).toBeLessThan(serialize(rows).length);
    expect(decodeShaped(bytes)).toStrictEqual(rows);
  });

  it('writes the list of a value with nested shapes as it first did, for the same shapes in another order too', () => {
    const row = (i: number) => ({ id: i, price: { amount: i, currency: 'EUR' }, size: { w: i, h: 2 } });
    const swapped = (i: number) => ({ id: i, price: { w: i, h: 2 }, size: { amount: i, currency: 'EUR' } });
    const lists = new Set<string>();
    for (let i = 0; i < 3; i++) {
      for (const make of [row, swapped]) {
        const bytes = encodeShaped(make(i)) as Buffer;
        expect(decodeShaped(bytes)).toStrictEqual(make(i));
        lists.add(JSON.stringify(shapeListOf(bytes)));
      }
    }
    // One list per layout, listed in the order the value's objects were met.
    expect([...lists].map((text) => JSON.parse(text) as unknown)).toEqual([
      [
        ['id', 'price', 'size'],
        ['amount', 'currency'],
        ['w', 'h'],
      ],
      [
        ['id', 'price', 'size'],
        ['w', 'h'],
        ['amount', 'currency'],
      ],
    ]);
    // More layouts under one first shape than are kept: each still written right.
    for (let i = 0; i < 20; i++) {
      const value = { id: 1, price: { [`k${i}`]: i }, size: { w: i, h: 2 } };
      const bytes = encodeShaped(value) as Buffer;
      expect(shapeListOf(bytes)).toEqual([['id', 'price', 'size'], [`k${i}`], ['w', 'h']]);
      expect(decodeShaped(bytes)).toStrictEqual(value);
    }
  });

  it('leaves to V8 a value a getter changes while it is written, so it reads back as V8 would', () => {
    const grows: unknown[] = [];
    grows.push({
      get x() {
        grows.push(7);
        return 1;
      },
    });
    expect(encodeShaped(grows)).toBeUndefined();
    const shrinks: unknown[] = [
      {
        get x() {
          shrinks.pop();
          return 1;
        },
      },
      2,
    ];
    expect(encodeShaped(shrinks)).toBeUndefined();
    const record: Record<string, unknown> = {
      get a() {
        delete record.b;
        return 1;
      },
      b: 2,
    };
    expect(encodeShaped(record)).toBeUndefined();
    expect(deserialize(serialize(record))).toStrictEqual({ a: 1 });
  });

  it('tells arrays, objects and Dates by what they are, not by their prototype alone', () => {
    expect(encodeShaped(Object.create(Array.prototype))).toBeUndefined();
    expect(encodeShaped(Object.setPrototypeOf([1, 2], Object.prototype))).toBeUndefined();
    const date = new Date(5);
    expect(decodeShaped(encodeShaped({ date }) as Buffer)).toStrictEqual({ date });
  });

  it('defines keys Object.prototype also has, as a literal would: no setter of a program runs', () => {
    let ran = false;
    Object.defineProperty(Object.prototype, 'watched', {
      set() {
        ran = true;
      },
      configurable: true,
    });
    try {
      // First read: built key by key.
      const back = decodeShaped(encodeShaped({ watched: 1, constructor: 'c' }) as Buffer) as Record<
        string,
        unknown
      >;
      expect(ran).toBe(false);
      expect(Object.getOwnPropertyDescriptor(back, 'watched')?.value).toBe(1);
      expect(Object.hasOwn(back, 'constructor')).toBe(true);
    } finally {
      delete (Object.prototype as Record<string, unknown>).watched;
    }
  });

  it('reads Dates as the Date the process started with, whatever replaced the global since', () => {
    const bytes = encodeShaped({ at: new Date(42) }) as Buffer;
    const RealDate = Date;
    const fake = class FakeDate extends RealDate {};
    globalThis.Date = fake as DateConstructor;
    try {
      const back = decodeShaped(bytes) as { at: Date };
      expect(Object.getPrototypeOf(back.at)).toBe(RealDate.prototype);
      expect(back.at.getTime()).toBe(42);
    } finally {
      globalThis.Date = RealDate;
    }
  });

  it('builds a value read-only when asked, as deepFreeze would leave it, on first reads and compiled', () => {
    const row = {
      id: 'p-1',
      at: new Date(7),
      list: [{ n: 1, when: new Date(8) }, [2]],
      nested: { deep: { x: 1 } },
    };
    const bytes = encodeShaped(row) as Buffer;
    const frozenWalk = (value: unknown): void => {
      if (typeof value !== 'object' || value === null) return;
      expect(Object.isFrozen(value)).toBe(true);
      if (value instanceof Date) expect(isReadOnlyDatePrototype(Object.getPrototypeOf(value))).toBe(true);
      for (const child of Object.values(value)) frozenWalk(child);
    };
    const expected = structuredClone(row);
    deepFreeze(expected);
    for (let read = 0; read < 3; read++) {
      const back = decodeShaped(bytes, true) as typeof row;
      frozenWalk(back);
      expect(back).toStrictEqual(expected);
      expect(() => back.at.setTime(0)).toThrow(TypeError);
      expect(() => {
        (back.list as unknown[]).push(1);
      }).toThrow(TypeError);
      // The same bytes read unfrozen are still mutable: the two kinds of builders are apart.
      expect(Object.isFrozen(decodeShaped(bytes))).toBe(false);
    }
    // The default codec offers it, for the shaped form and (frozen after the decode) V8's format.
    const codec = structuredCodec();
    const decoders = readOnlyDecoders(codec)!;
    const withMap = { m: new Map([['k', { v: 1 }]]) };
    const back = decoders.transient(codec.encode(withMap)) as typeof withMap;
    expect(Object.isFrozen(back.m.get('k'))).toBe(true);
    expect(() => back.m.set('x', { v: 2 })).toThrow(TypeError);
    // A held value in V8's format is left to the caller's decode, measure and freeze.
    expect(decoders.kept(codec.encode(withMap), new StringPool())).toBeUndefined();
  });

  it('compiles only the builders a process reads with: frozen ones for frozen reads, plain ones for plain', () => {
    // Other tests may have reached the cap: lists until the cache starts over (and the count with it).
    let last = cachedShapeBytes();
    for (let i = 0; i < 10_000; i++) {
      const key = `fill-${i}-${'f'.repeat(40)}`;
      decodeShaped(encodeShaped({ [key]: i }) as Buffer);
      if (cachedShapeBytes() < last) break;
      last = cachedShapeBytes();
    }
    const value = { unique: 'a', nested: { onlyHere: 1 } };
    const bytes = encodeShaped(value) as Buffer;
    const before = compiledBuilderCount();
    expect(before).toBeLessThan(MAX_COMPILED_BUILDERS - 4);
    for (let read = 0; read < 4; read++) expect(decodeShaped(bytes, true)).toStrictEqual(value);
    // Two shapes, compiled once each, frozen: the plain builders were never asked for.
    expect(compiledBuilderCount() - before).toBe(2);
    for (let read = 0; read < 2; read++) expect(Object.isFrozen(decodeShaped(bytes))).toBe(false);
    expect(compiledBuilderCount() - before).toBe(4);
  });

  it('builds a held value read-only, measured and its short strings pooled as the heap-size walk would', () => {
    const kinds: unknown[] = [
      {
        id: 'p-000001',
        currency: 'EUR',
        status: 'in stock',
        one: 'x',
        empty: '',
        long: 'a'.repeat(40),
        accented: 'café crème',
        wide: 'Ünïcødé ✓ 漢字',
        small: 7,
        negative: -2_147_483_648,
        big: 2 ** 40,
        fraction: 0.5,
        minusZero: -0,
        notANumber: NaN,
        flags: [true, false, null, undefined],
        at: new Date(Date.UTC(2026, 0, 2)),
        nested: { tags: ['EUR', 'sale', 'sale', 'x'], deeper: { list: [], more: [1, 2.5, 'in stock'] } },
        many: { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8 },
      },
      ['EUR', 'EUR', { currency: 'EUR' }],
      'a root string is counted, never pooled',
      'EUR',
      [],
    ];
    // Two pools fed the same values in the same order: the kept decode's and the walk's.
    const keptPool = new StringPool();
    const walkPool = new StringPool();
    const { kept } = readOnlyDecoders(structuredCodec())!;
    for (let round = 0; round < 3; round++) {
      for (const original of kinds) {
        const bytes = encodeShaped(original) as Buffer;
        const held = kept(bytes, keptPool)!;
        const walked = decodeShaped(bytes);
        const measured = compactAndMeasure(walked, walkPool);
        // What a key set new to the process costs is the tally's alone (the walk cannot tell).
        expect(held.heapBytes - held.unwalkedBytes).toBe(measured);
        deepFreeze(walked);
        expect(held.value).toStrictEqual(walked);
        if (typeof held.value === 'object') expect(Object.isFrozen(held.value)).toBe(true);
      }
    }
    // Pooling is what makes the second read of the same strings cheaper (shared, not charged).
    const row = { currency: 'EUR', status: 'in stock' };
    const pool = new StringPool();
    const first = kept(encodeShaped(row) as Buffer, pool)!.heapBytes;
    const second = kept(encodeShaped(row) as Buffer, pool)!.heapBytes;
    expect(second).toBeLessThan(first);
    expect(second).toBe(compactAndMeasure({ ...row }, pool));
  });

  it('charges a key set new to the process, its hidden classes and key strings, on its first read only', () => {
    const { kept } = readOnlyDecoders(structuredCodec())!;
    const pool = new StringPool();
    // Keys that are data (a score by e-mail): every value brings its own.
    const scores = (n: number) => ({ [`u${n}@example.com`]: 10, [`v${n}@example.com`]: 20 });
    const first = kept(encodeShaped(scores(1)) as Buffer, pool)!;
    expect(first.unwalkedBytes).toBe(2 * (80 + 16 + 16));
    expect(kept(encodeShaped(scores(2)) as Buffer, pool)!.unwalkedBytes).toBe(first.unwalkedBytes);
    // The same keys again: V8 reuses the hidden classes, and the key strings are shared.
    const again = kept(encodeShaped(scores(1)) as Buffer, pool)!;
    expect(again.unwalkedBytes).toBe(0);
    expect(again.heapBytes).toBe(first.heapBytes - first.unwalkedBytes);
  });

  it('charges an object of more than 16 named keys as the hash table its first read builds, the fast layout once compiled', () => {
    const { kept } = readOnlyDecoders(structuredCodec())!;
    const pool = new StringPool();
    const record = (salt: number) =>
      Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`column_${k}_of_twenty`, salt * 100 + k]));
    const [first, second, third] = [1, 2, 3].map((salt) => kept(encodeShaped(record(salt)) as Buffer, pool)!);
    // First read: 20 keys in a hash table of 32 slots with a hidden class of its own, and the key
    // strings (no hidden class per key: none is made for a hash table).
    const keyStrings = 20 * (16 + 24);
    expect(first!.heapBytes).toBe(56 + 48 + 24 * 32 + 80 + keyStrings);
    expect(first!.unwalkedBytes).toBe(first!.heapBytes - compactAndMeasure(record(1), new StringPool()));
    // From the second read on, a compiled literal: the fast layout, as the walk counts it.
    for (const held of [second!, third!]) {
      expect(held.unwalkedBytes).toBe(0);
      expect(held.heapBytes).toBe(compactAndMeasure(record(2), new StringPool()));
      expect(held.heapBytes).toBe(56 + 16 + 8 * 18);
    }
  });

  it('writes a value correctly when a getter inside it writes another value meanwhile', () => {
    const inner = { n: 1, list: ['a'] };
    const outer = {
      first: 'x',
      get nested() {
        return decodeShaped(encodeShaped(inner) as Buffer);
      },
      last: [1, 2],
    };
    expect(decodeShaped(encodeShaped(outer) as Buffer)).toStrictEqual({
      first: 'x',
      nested: inner,
      last: [1, 2],
    });
  });

  it('reads strings of every kind back as they were', () => {
    const strings = [
      '',
      'a',
      'eight ch',
      'nine char',
      'x'.repeat(200),
      'y'.repeat(20_000),
      'héllo',
      '日本語',
      '😀 pair',
      '\ud800 lone high',
      'lone low \udc00',
      '\u0000\u007f\u0080\u00ff',
    ];
    const back = decodeShaped(encodeShaped({ strings }) as Buffer) as { strings: string[] };
    expect(back.strings).toStrictEqual(strings);
  });
});
