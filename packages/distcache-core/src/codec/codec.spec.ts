import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { deepFreeze } from './deep-freeze';
import { jsonCodec } from './json.codec';
import { rawCodec } from './raw.codec';
import { structuredCodec } from './structured.codec';

describe('structuredCodec', () => {
  const codec = structuredCodec();

  it('round-trips Date, Buffer, Uint8Array, Map, Set, BigInt and nesting', () => {
    const value = {
      at: new Date('2026-11-25T10:00:00Z'),
      buffer: Buffer.from('héllo'),
      bytes: new Uint8Array([1, 2, 3]),
      map: new Map<string, unknown>([['a', { deep: [1, new Date(0)] }]]),
      set: new Set(['x', 'y']),
      big: 12345678901234567890n,
      nested: { list: [null, true, 1.5, 'text', { empty: {} }] },
    };
    const back = codec.decode(codec.encode(value)) as typeof value;
    expect(back).toEqual(value);
    expect(back.at).toBeInstanceOf(Date);
    expect(Buffer.isBuffer(back.buffer)).toBe(true);
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect(back.map).toBeInstanceOf(Map);
    expect(back.set).toBeInstanceOf(Set);
    expect(typeof back.big).toBe('bigint');
  });

  it('writes plain data in the shaped form and reads back what V8 would: Dates, -0, NaN, undefined', () => {
    const row = {
      id: 'p-1',
      price: { amount: 1999, currency: 'EUR' },
      tags: ['a', 'b'],
      createdAt: new Date('2025-03-04T08:30:00.123Z'),
      history: [{ at: new Date(0) }, { at: new Date('0042-01-01T00:00:00.000Z') }],
      far: new Date(8.64e15),
      invalid: new Date(Number.NaN),
      text: 'héllo \u2028 \ud800 "quoted"\n 😀',
      none: null,
      missing: undefined,
      numbers: [2 ** 60, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 0.5, -0, Number.NaN, -Infinity, 0],
      'key "with" \\ quotes \u2028': true,
      7: 'an integer-like key',
    };
    const bytes = codec.encode(row);
    expect(bytes[0]).toBe(0x03);
    const back = codec.decode(bytes) as typeof row;
    expect(back).toStrictEqual(deserialize(serialize(row)));
    expect(Object.keys(back)).toEqual(Object.keys(row));
    expect(back.createdAt).toBeInstanceOf(Date);
    expect(back.history[1]?.at.getTime()).toBe(row.history[1]?.at.getTime());
    expect(back.far.getTime()).toBe(8.64e15);
    expect(Object.is(back.numbers[5], -0)).toBe(true);
    expect('missing' in back).toBe(true);
    for (const value of ['text', '', 'x'.repeat(9), 7, -0, 1.5, true, null, undefined, new Date(5), [], {}])
      expect(codec.decode(codec.encode(value)), typeof value).toStrictEqual(value);
  });

  it('reads back objects of one shape alike on their first reads and once compiled', () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ n: i, s: `row ${i}`, nested: { at: new Date(i) } }));
    for (const row of rows) {
      const back = codec.decode(codec.encode(row)) as typeof row;
      expect(back).toStrictEqual(row);
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    }
    // Keys taken from data: a new shape per value, every one read back.
    for (let i = 0; i < 40; i++) {
      const byId = { [`id-${i}`]: i, [`other-${i}`]: [i] };
      expect(codec.decode(codec.encode(byId))).toStrictEqual(byId);
    }
  });

  it('reads back the JSON form that earlier versions write', () => {
    const plain = Buffer.concat([Buffer.from([0x01]), Buffer.from('{"a":[1,"x",true,null]}')]);
    expect(codec.decode(plain)).toStrictEqual({ a: [1, 'x', true, null] });
    const dated = Buffer.concat([
      Buffer.from([0x02]),
      Buffer.from('[["at"]]\n{"at":"2025-03-04T08:30:00.123Z","n":1}'),
    ]);
    expect(codec.decode(dated)).toStrictEqual({ at: new Date('2025-03-04T08:30:00.123Z'), n: 1 });
  });

  it('writes a value deepFreeze made read-only (as an entry holds it) in the shaped form too', () => {
    const row = { id: 'p-1', at: new Date('2025-03-04T08:30:00.123Z'), list: [{ at: new Date(0) }] };
    const frozen = structuredClone(row);
    expect(deepFreeze(frozen)).toBe(true);
    const bytes = codec.encode(frozen);
    expect(bytes[0]).toBe(0x03);
    expect(bytes).toEqual(codec.encode(row));
    const back = codec.decode(bytes) as typeof row;
    expect(back).toEqual(row);
    expect(back.at).toBeInstanceOf(Date);
    // An object that only has the read-only Date prototype is not a Date: V8's format reads it back
    // as it did.
    const lookalike = Object.create(Object.getPrototypeOf(frozen.at) as object) as object;
    const bytesOfLookalike = codec.encode({ d: lookalike });
    expect(bytesOfLookalike[0]).toBe(0xff);
    expect(codec.decode(bytesOfLookalike)).toEqual({ d: {} });
  });

  it('keeps V8 format for what the shaped form would change, so every value reads back as it did', () => {
    const shared = { n: 1 };
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const named = Object.assign([1, 2], { extra: true });
    const holey = [1];
    holey[2] = 3;
    const patchedDate = Object.assign(new Date(0), { note: 'x' });
    let deep: unknown = 'end';
    for (let i = 0; i < 70; i++) deep = [deep];
    const cases: Array<[string, unknown]> = [
      ['a hole', holey],
      ['a named array property', named],
      ['a Date with a property', patchedDate],
      ['a shared object', { a: shared, b: shared }],
      ['a cycle', cyclic],
      ['nesting past 64', deep],
      [
        'a class instance',
        new (class Point {
          x = 1;
        })(),
      ],
      ['a __proto__ key', JSON.parse('{"__proto__": {"x": 1}}')],
      ['a Map', new Map([[1, 2]])],
      ['a BigInt', { n: 1n }],
      ['a Buffer', { b: Buffer.from('x') }],
    ];
    for (const [what, value] of cases) {
      const bytes = codec.encode(value);
      expect(bytes[0], what).toBe(0xff);
      // What V8's format alone gives back (a class instance comes back a plain object).
      expect(codec.decode(bytes), what).toStrictEqual(deserialize(serialize(value)));
    }
    const back = codec.decode(codec.encode({ a: shared, b: shared })) as { a: object; b: object };
    expect(back.a).toBe(back.b);
  });

  it('refuses JSON-form bytes whose Date paths do not fit the value, and pollutes nothing', () => {
    const bytes = (paths: string, value: string): Uint8Array =>
      Buffer.concat([Buffer.from([0x02]), Buffer.from(`${paths}\n${value}`)]);
    const hostile: Array<[string, string]> = [
      ['[["__proto__","toString"]]', '{}'],
      ['[["constructor","prototype","valueOf"]]', '{}'],
      ['[[0,"__proto__","push"]]', '[[]]'],
      ['[["a"]]', '{"a":5}'],
      ['[["missing"]]', '{}'],
      ['"a"', '{"a":"2020-01-01T00:00:00.000Z"}'],
      ['[[{"x":1}]]', '{}'],
      ['[[],[]]', '"2020-01-01T00:00:00.000Z"'],
    ];
    const originals = [Object.prototype.toString, Object.prototype.valueOf, Array.prototype.push];
    for (const [paths, value] of hostile) {
      expect(() => codec.decode(bytes(paths, value)), paths).toThrow(TypeError);
    }
    expect(() => codec.decode(Buffer.from([0x02, 0x5b, 0x5d]))).toThrow(); // no newline
    expect([Object.prototype.toString, Object.prototype.valueOf, Array.prototype.push]).toEqual(originals);
    // An own "__proto__" key of a parsed value is an ordinary key.
    const own = codec.decode(
      bytes('[["__proto__","at"]]', '{"__proto__":{"at":"2020-01-01T00:00:00.000Z"}}'),
    );
    expect(Object.getPrototypeOf(own)).toBe(Object.prototype);
    expect(({} as { at?: unknown }).at).toBeUndefined();
  });

  it('checks every value against Date paths it has read before, and refuses paths that are not JSON', () => {
    const bytes = (paths: string, value: string): Uint8Array =>
      Buffer.concat([Buffer.from([0x02]), Buffer.from(`${paths}\n${value}`)]);
    const paths = '[["at"],["list",1]]';
    const fits = codec.decode(
      bytes(paths, '{"at":"2020-01-01T00:00:00.000Z","list":[0,"2021-02-03T04:05:06.007Z"]}'),
    );
    expect(fits).toStrictEqual({
      at: new Date('2020-01-01T00:00:00.000Z'),
      list: [0, new Date('2021-02-03T04:05:06.007Z')],
    });
    // The same paths text again (parsed once), now with values that do not fit it.
    for (const value of [
      '{"at":5,"list":[0,"2020-01-01T00:00:00.000Z"]}',
      '{"at":"2020-01-01T00:00:00.000Z","list":[]}',
      '{}',
    ])
      expect(() => codec.decode(bytes(paths, value)), value).toThrow(TypeError);
    // The shared parsed paths are not changed by a value that has Dates elsewhere.
    expect(
      codec.decode(bytes(paths, '{"at":"2020-01-01T00:00:00.000Z","list":[0,"2020-01-01T00:00:00.000Z"]}')),
    ).toStrictEqual({
      at: new Date('2020-01-01T00:00:00.000Z'),
      list: [0, new Date('2020-01-01T00:00:00.000Z')],
    });
    expect(() => codec.decode(bytes('[["at"]', '{"at":"2020-01-01T00:00:00.000Z"}'))).toThrow(TypeError);
  });

  it('reads back what V8 would whatever toJSON and toISOString say (the shaped form calls neither)', () => {
    const hidden = Object.defineProperty({ a: 1 }, 'toJSON', { value: () => 'x', enumerable: false });
    const isoPatched = Object.defineProperty(new Date(5), 'toISOString', { value: () => 'local' });
    const polluted = Object.prototype as { toJSON?: unknown };
    const original = Object.getOwnPropertyDescriptor(Date.prototype, 'toJSON') as PropertyDescriptor;
    polluted.toJSON = () => 'polluted';
    Object.defineProperty(Date.prototype, 'toJSON', { ...original, value: () => 'local time' });
    try {
      for (const value of [
        hidden,
        { d: new Date(7) },
        Object.defineProperty([1], 'toJSON', { value: () => 2 }),
      ]) {
        const bytes = codec.encode(value);
        expect(bytes[0]).toBe(0x03);
        expect(codec.decode(bytes)).toStrictEqual(deserialize(serialize(value)));
      }
      // Own properties on a Date: V8's format (which drops them too).
      expect(codec.encode({ d: isoPatched })[0]).toBe(0xff);
    } finally {
      delete polluted.toJSON;
      Object.defineProperty(Date.prototype, 'toJSON', original);
    }
  });

  it('reads a value written by an earlier version (V8 format)', () => {
    const value = { at: new Date(3), list: [1, 'two'] };
    expect(codec.decode(serialize(value))).toEqual(value);
  });

  it('throws on values it cannot represent', () => {
    expect(() => codec.encode({ fn: () => 1 })).toThrow();
    expect(() => codec.encode(Symbol('s'))).toThrow();
  });

  it('throws on malformed bytes', () => {
    expect(() => codec.decode(new Uint8Array([0xff, 0x0f, 0x6f, 0x01]))).toThrow();
  });
});

describe('jsonCodec', () => {
  const codec = jsonCodec();

  it('round-trips JSON values and drops prototype-polluting keys', () => {
    expect(codec.decode(codec.encode({ a: [1, 'b', null] }))).toEqual({ a: [1, 'b', null] });
    const hostile = new TextEncoder().encode(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},"ok":2}',
    );
    const decoded = codec.decode(hostile) as Record<string, unknown>;
    expect(decoded).toEqual({ ok: 2 });
    expect(Object.prototype.hasOwnProperty.call(decoded, '__proto__')).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects what JSON cannot encode and invalid UTF-8', () => {
    expect(() => codec.encode(undefined)).toThrow();
    expect(() => codec.encode({ n: 1n })).toThrow();
    expect(() => codec.decode(new Uint8Array([0xc3, 0x28]))).toThrow();
  });
});

describe('rawCodec', () => {
  it('stores bytes and reads back a private Buffer copy', () => {
    const codec = rawCodec();
    const stored = codec.encode(Buffer.from('abc'));
    const first = codec.decode(stored);
    first[0] = 0;
    expect(Buffer.from(codec.decode(stored)).toString()).toBe('abc');
    expect(() => codec.encode('text' as unknown as Uint8Array)).toThrow(/Uint8Array/);
  });
});

describe('deepFreeze', () => {
  it('freezes objects, arrays, Maps, Sets and Dates all the way down', () => {
    const value = { list: [{ n: 1 }], map: new Map([['k', { v: 1 }]]), set: new Set([1]), at: new Date(0) };
    expect(deepFreeze(value)).toBe(true);
    expect(Object.isFrozen(value.list[0])).toBe(true);
    expect(() => {
      'use strict';
      (value.list[0] as { n: number }).n = 2;
    }).toThrow(TypeError);
    expect(() => value.map.set('k2', { v: 2 })).toThrow(/read-only/);
    expect(() => value.map.get('k')!.v++).toThrow(TypeError);
    expect(() => value.set.add(2)).toThrow(/read-only/);
    expect(() => value.at.setFullYear(2000)).toThrow(/read-only/);
    // Only a real Date gets the read-only Date prototype, not any object on Date.prototype's chain.
    const notADate = Object.create(Date.prototype) as object;
    expect(deepFreeze({ notADate })).toBe(true);
    expect(Object.getPrototypeOf(notADate)).toBe(Date.prototype);
    expect(Object.isFrozen(notADate)).toBe(true);
    expect(value.at.getTime()).toBe(0);
  });

  it('reports false for values holding typed arrays, which cannot be frozen', () => {
    expect(deepFreeze({ bytes: new Uint8Array(2) })).toBe(false);
    expect(deepFreeze(Buffer.from('x'))).toBe(false);
  });

  it('walks own keys only, and objects of other prototypes and without one', () => {
    const shared = { inherited: true };
    Object.defineProperty(Object.prototype, 'pollution', {
      value: shared,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    try {
      const bare = Object.assign(Object.create(null) as Record<string, unknown>, { inner: { n: 1 } });
      class Point {
        constructor(readonly at: { x: number }) {}
      }
      const value = { bare, point: new Point({ x: 1 }), list: [[{ deep: 1 }]] };
      expect(deepFreeze(value)).toBe(true);
      expect(Object.isFrozen(bare['inner'])).toBe(true);
      expect(Object.isFrozen(value.point.at)).toBe(true);
      expect(Object.isFrozen(value.list[0]![0])).toBe(true);
      expect(Object.isFrozen(shared)).toBe(false);
      expect(deepFreeze({ nested: [{ bytes: new Uint8Array(1) }] })).toBe(false);
    } finally {
      delete (Object.prototype as Record<string, unknown>)['pollution'];
    }
  });

  it('handles cycles and primitives', () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(deepFreeze(cyclic)).toBe(true);
    expect(deepFreeze(42)).toBe(true);
    expect(deepFreeze(null)).toBe(true);
  });
});

describe('structuredCodec aliasing', () => {
  it('decodes Buffers that do not share memory with the encoded bytes', () => {
    const codec = structuredCodec<{ blob: Buffer }>();
    const bytes = codec.encode({ blob: Buffer.from('abc') });
    const first = codec.decode(bytes);
    first.blob[0] = 0x7a;
    expect(codec.decode(bytes).blob.toString()).toBe('abc');
  });

  it('decodes every kind of typed array and DataView as a copy of its own, of the same type', () => {
    const value = {
      u8: new Uint8Array([1, 2, 3]),
      f64: new Float64Array([1.5, -2]),
      i16: new Int16Array([7, -7]),
      view: new DataView(new Uint8Array([9, 8, 7, 6]).buffer),
      buffers: [Buffer.from('x'), Buffer.from('yz')],
    };
    const codec = structuredCodec<typeof value>();
    const bytes = codec.encode(value);
    const first = codec.decode(bytes);
    expect(first).toEqual(value);
    expect(Buffer.isBuffer(first.buffers[1])).toBe(true);
    expect(first.f64).toBeInstanceOf(Float64Array);
    expect(first.view).toBeInstanceOf(DataView);
    first.u8[0] = 100;
    first.f64[0] = 100;
    first.i16[0] = 100;
    first.view.setUint8(0, 100);
    first.buffers[1]![0] = 0x41;
    expect(codec.decode(bytes)).toEqual(value);
  });
});
