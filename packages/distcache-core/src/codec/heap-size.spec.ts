import { describe, expect, it } from 'vitest';
import { compactAndMeasure, estimateHeapBytes, JSON_MAX_FAST_PROPERTIES, sparseElements } from './heap-size';
import { StringPool } from './string-pool';
import { structuredCodec } from './structured.codec';

const codec = structuredCodec<Record<string, unknown>>();

describe('estimateHeapBytes', () => {
  it('sizes the shapes the structured codec decodes to', () => {
    expect(estimateHeapBytes({ a: 1, b: 2 })).toBe(56);
    expect(estimateHeapBytes({ a: 1, b: 2, c: 3, d: 4, e: 5 })).toBe(56 + 16 + 3 * 8);
    expect(estimateHeapBytes([1, 2, 3])).toBe(32 + 16 + 3 * 8);
    expect(estimateHeapBytes(1.5)).toBe(16);
    expect(estimateHeapBytes(7)).toBe(0);
    expect(estimateHeapBytes('x'.repeat(100))).toBe(16 + 104);
    expect(estimateHeapBytes('é€'.repeat(50))).toBe(16 + 200);
    expect(estimateHeapBytes(new Date())).toBe(112);
    expect(estimateHeapBytes(new Map([[1, 2]]))).toBe(72 + 4 * 28);
    expect(estimateHeapBytes(new Set(Array.from({ length: 5 }, (_, i) => i)))).toBe(72 + 8 * 20);
  });

  it("counts an array's named properties (V8's format keeps them) in a property array of their own", () => {
    const named = Object.assign([1, 2], { meta: { x: 1 }, label: 'z'.repeat(40) });
    // The elements, then a property array of 3 slots, the object and the string.
    expect(estimateHeapBytes(named)).toBe(32 + 16 + 2 * 8 + (16 + 3 * 8) + 56 + (16 + 40));
  });

  it('counts the hash tables of objects V8 keeps in dictionary mode: over 1,020 named keys, or sparse ids', () => {
    const keyed = (keys: string[]) => Object.fromEntries(keys.map((key) => [key, true]));
    const named = (n: number) => keyed(Array.from({ length: n }, (_, i) => `k${i}`));
    // 8 B a property up to the limit (measured ~7.6 KB for 1,000), then 24 B a slot of a
    // power-of-two table and, frozen, a hidden class of its own (80 B).
    expect(estimateHeapBytes(named(1_000))).toBe(56 + 16 + 8 * 996);
    expect(estimateHeapBytes(named(5_000))).toBe(56 + 48 + 24 * 8192 + 80);
    // From JSON.parse, a table from 128 named keys on.
    expect(compactAndMeasure(named(127), new StringPool(), JSON_MAX_FAST_PROPERTIES)).toBe(56 + 16 + 8 * 123);
    expect(compactAndMeasure(named(128), new StringPool(), JSON_MAX_FAST_PROPERTIES)).toBe(
      56 + 48 + 24 * 256 + 80,
    );
    // Ids far from 0 (measured 3.2 KB for 50); dense integer keys are a flat array grown as V8
    // grows it (17, 43, 82 slots: measured 719-726 B). Ids close enough to each other for V8 to grow
    // a flat array up to the largest (a cart of three product ids up to 2,500: 24.7 KB measured)
    // are put in a hash table by the walk that holds them (compactElements: ~300 B measured).
    const ids = keyed(Array.from({ length: 50 }, (_, i) => String(100_000 + 7 * i)));
    expect(estimateHeapBytes(ids)).toBe(56 + 48 + 24 * 128);
    const dense = keyed(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(estimateHeapBytes(dense)).toBe(56 + 16 + 8 * 82);
    const cart = { 300: 1, 1200: 2, 2200: 1 };
    expect(sparseElements(Object.keys(cart))).toBe(true);
    expect(estimateHeapBytes(cart)).toBe(56 + 48 + 24 * 8);
    expect(estimateHeapBytes({ 5: 1, 900: 2 })).toBe(56 + 48 + 24 * 4);
    expect(sparseElements(Object.keys(dense))).toBe(false);
    // Integer keys first, then the named ones, each counted their own way.
    expect(estimateHeapBytes({ ...ids, name: true })).toBe(estimateHeapBytes(ids));
    expect(estimateHeapBytes({ ...ids, a: 1, b: 2, c: 3, d: 4, e: 5 })).toBe(
      estimateHeapBytes(ids) + 16 + 3 * 8,
    );
  });

  it('compacts sparse ids of a value about to be held without changing its keys, values or order', () => {
    const cart: Record<string, unknown> = { 300: 'a', 1200: 'b', 2200: 'c', name: 'cart' };
    const pool = new StringPool();
    expect(compactAndMeasure(cart, pool)).toBe(estimateHeapBytes(cart));
    expect(Object.keys(cart)).toEqual(['300', '1200', '2200', 'name']);
    expect(Object.values(cart)).toEqual(['a', 'b', 'c', 'cart']);
    // A setter a program put on Object.prototype at the far index does not run; a frozen value
    // (a custom codec's) is measured as it is.
    let ran = false;
    Object.defineProperty(Object.prototype, 2 ** 31, { set: () => (ran = true), configurable: true });
    try {
      compactAndMeasure({ 300: 1, 2200: 2 }, pool);
      const frozen = Object.freeze({ 300: 1, 2200: 2 });
      expect(() => compactAndMeasure(frozen, pool)).not.toThrow();
    } finally {
      delete (Object.prototype as Record<number, unknown>)[2 ** 31];
    }
    expect(ran).toBe(false);
  });

  it('counts a shared or cyclic sub-value once', () => {
    const shared = { text: 'y'.repeat(64) };
    const cyclic: Record<string, unknown> = { a: shared, b: shared };
    cyclic.self = cyclic;
    expect(estimateHeapBytes(cyclic)).toBe(56 + 56 + 16 + 64);
  });
});

describe('compactAndMeasure', () => {
  it('does not charge short strings another value already holds, and keeps values equal', () => {
    const pool = new StringPool();
    const make = (id: number) =>
      codec.decode(codec.encode({ id: `unique-${id}`, currency: 'EUR', tags: ['sale', 'new'] }));
    const first = make(1);
    const second = make(2);
    const firstBytes = compactAndMeasure(first, pool);
    const secondBytes = compactAndMeasure(second, pool);
    expect(firstBytes - secondBytes).toBe(3 * 24); // 'EUR', 'sale', 'new'
    expect(second).toEqual({ id: 'unique-2', currency: 'EUR', tags: ['sale', 'new'] });
  });

  it('leaves Set members, Map keys and an own __proto__ property alone', () => {
    const pool = new StringPool();
    const value = codec.decode(codec.encode({ set: new Set(['ab']), map: new Map([['ab', 'ab']]) }));
    compactAndMeasure(value, pool);
    compactAndMeasure(value, pool);
    expect(value).toEqual({ set: new Set(['ab']), map: new Map([['ab', 'ab']]) });
    const withProto = JSON.parse('{"__proto__": "ab", "x": "ab"}') as Record<string, unknown>;
    compactAndMeasure(withProto, pool);
    expect(Object.getPrototypeOf(withProto)).toBe(Object.prototype);
    expect(Object.keys(withProto)).toEqual(['__proto__', 'x']);
  });
});
