import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json';
import { decodeArguments, encodeArguments, type MethodShape, methodShape } from './method-key';

const text: MethodShape = { numberParameter: false };
const numeric: MethodShape = { numberParameter: true };

const roundTrip = (args: unknown[], shape: MethodShape) =>
  decodeArguments(encodeArguments(args, shape), shape);

describe('encodeArguments / decodeArguments', () => {
  it('a single string argument is the key itself', () => {
    expect(encodeArguments(['42'], text)).toBe('42');
    expect(encodeArguments(['sku/ab-1 é'], text)).toBe('sku/ab-1 é');
    expect(roundTrip(['42'], text)).toEqual(['42']);
  });

  it('a single number of a `number` parameter is its decimal text and decodes to a number', () => {
    expect(encodeArguments([42], numeric)).toBe('42');
    expect(encodeArguments([-1.5], numeric)).toBe('-1.5');
    expect(roundTrip([42], numeric)).toEqual([42]);
    expect(roundTrip([1e21], numeric)).toEqual([1e21]);
  });

  it('the same id keys the same entry whether a method takes it as string or number', () => {
    expect(encodeArguments(['42'], text)).toBe(encodeArguments([42], numeric));
  });

  it('a string that could be mistaken for the JSON form, or an empty one, is keyed as JSON', () => {
    expect(encodeArguments(['[1,2]'], text)).toBe('["[1,2]"]');
    expect(roundTrip(['[1,2]'], text)).toEqual(['[1,2]']);
    expect(encodeArguments([''], text)).toBe('[""]');
    expect(roundTrip([''], text)).toEqual(['']);
  });

  it('types that the method shape does not expect stay exact through JSON', () => {
    expect(encodeArguments([42], text)).toBe('[42]');
    expect(roundTrip([42], text)).toEqual([42]);
    expect(encodeArguments(['42'], numeric)).toBe('["42"]');
    expect(roundTrip(['42'], numeric)).toEqual(['42']);
  });

  it('several arguments are a canonical JSON array, stable under object key order', () => {
    const a = encodeArguments([{ category: 'tools', maxPrice: 50, tags: ['b', 'a'] }, 2], text);
    const b = encodeArguments([{ tags: ['b', 'a'], maxPrice: 50, category: 'tools' }, 2], text);
    expect(a).toBe('[{"category":"tools","maxPrice":50,"tags":["b","a"]},2]');
    expect(b).toBe(a);
    expect(roundTrip([{ nested: { z: null, a: true } }, 'x', 0], text)).toEqual([
      { nested: { z: null, a: true } },
      'x',
      0,
    ]);
  });

  it('trailing undefined arguments are dropped, so an optional parameter left out shares the key', () => {
    expect(encodeArguments(['tools', undefined], text)).toBe('tools');
    expect(encodeArguments([{ q: 'x' }, undefined, undefined], text)).toBe('[{"q":"x"}]');
    expect(encodeArguments([], text)).toBe('[]');
    expect(decodeArguments('[]', text)).toEqual([]);
  });

  it('refuses arguments that would not come back the same, naming the argument', () => {
    expect(() => encodeArguments([new Date(0)], text)).toThrow('arguments[0] is an instance of Date');
    expect(() => encodeArguments([{ at: new Map() }], text)).toThrow('arguments[0].at is an instance of Map');
    expect(() => encodeArguments([undefined, 1], text)).toThrow('arguments[0] is undefined');
    expect(() => encodeArguments([Number.NaN], numeric)).toThrow('arguments[0] is NaN');
    expect(() => encodeArguments([1n], text)).toThrow('arguments[0] is a bigint');
    expect(() => encodeArguments([[1, undefined]], text)).toThrow('arguments[0][1] is undefined');
  });

  it('only keys starting with [ are decoded as JSON', () => {
    expect(() => decodeArguments('[', text)).toThrow(SyntaxError);
    expect(decodeArguments('{"a":1}', text)).toEqual(['{"a":1}']);
  });
});

describe('canonicalJson', () => {
  it('matches JSON.stringify for plain values, with sorted keys and undefined members dropped', () => {
    const value = { b: [1, 'two', false, null], a: { d: 1, c: undefined }, é: -0 };
    expect(canonicalJson(value)).toBe('{"a":{"d":1},"b":[1,"two",false,null],"é":0}');
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.assign(Object.create(null) as object, { y: 1, x: 2 });
    expect(canonicalJson(bare)).toBe('{"x":2,"y":1}');
  });
});

describe('methodShape', () => {
  it('reads the parameter types TypeScript records', () => {
    class Target {
      one(_id: number): void {}
      two(_id: number, _page: number): void {}
    }
    Reflect.defineMetadata('design:paramtypes', [Number], Target.prototype, 'one');
    Reflect.defineMetadata('design:paramtypes', [Number, Number], Target.prototype, 'two');
    expect(methodShape(Target.prototype, 'one')).toEqual({ numberParameter: true });
    expect(methodShape(Target.prototype, 'two')).toEqual({ numberParameter: false });
    expect(methodShape(Target.prototype, 'absent')).toEqual({ numberParameter: false });
  });
});
