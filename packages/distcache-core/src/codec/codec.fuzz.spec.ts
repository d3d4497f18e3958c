// Seeded property tests of the default codec: random values, read back in the three ways a value is
// read (a plain decode, a read-only build, a read-only build measured for keeping), each compared
// with what V8's own format gives back. Deterministic: the same seeds make the same values.
import { inspect, isDeepStrictEqual, types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { readOnlyDecoders } from './codec';
import { deepFreeze, isReadOnlyDatePrototype } from './deep-freeze';
import { compactAndMeasure } from './heap-size';
import {
  cachedShapeBytes,
  compiledBuilderCount,
  encodeShaped,
  MAX_COMPILED_BUILDERS,
  SHAPED,
} from './shaped-form';
import { shapeListOf } from '../../test/support/shaped-bytes';
import { StringPool } from './string-pool';
import { structuredCodec } from './structured.codec';

// ---------------------------------------------------------------------------------------------
// Randomness

/** mulberry32: a 32-bit seeded PRNG, good enough to pick values and never the same twice by accident. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  shuffled<T>(items: readonly T[]): T[] {
    const copy = items.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }
}

// ---------------------------------------------------------------------------------------------
// Values

/** Keys that have tripped codecs: prototype names, integer-likes (reordered by JS), escapes, unicode. */
const SPECIAL_KEYS = [
  '',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'then',
  'length',
  'prototype',
  '0',
  '1',
  '2',
  '10',
  '01',
  '-1',
  '-0',
  '1.5',
  '4294967294',
  '4294967295',
  '9007199254740993',
  'a b',
  '"quoted"',
  '\\',
  '\u2028',
  '\u0000',
  'é',
  '日本',
  '😀',
  '\ud800',
  '\udc00x',
  '"}; globalThis.pwned = 1; ({"',
];
const COMMON_KEYS = [
  'id',
  'name',
  'price',
  'currency',
  'status',
  'tags',
  'items',
  'createdAt',
  'owner',
  'count',
  'meta',
  'children',
  'value',
  'type',
  'flag',
  'x',
  'y',
  'w',
  'h',
  'amount',
];
/** Recurring key sets, each in three orders (one key set, several shapes). */
const TEMPLATES: string[][] = Array.from({ length: 40 }, (_, t) => {
  const random = new Random(1000 + t);
  const count = 1 + random.int(7);
  const keys = random.shuffled([...COMMON_KEYS, ...SPECIAL_KEYS.slice(0, 12)]).slice(0, count);
  return [keys, random.shuffled(keys), random.shuffled(keys)];
}).flat();
/** Short strings that recur (pooled), and strings of every encoding the shaped form has. */
const STRINGS = [
  '',
  'a',
  'EUR',
  'USD',
  'in stock',
  'sold out',
  'eight ch',
  'nine char',
  'x'.repeat(31),
  'y'.repeat(32),
  'z'.repeat(33),
  'héllo',
  'ÿ\u0080\u00ff',
  '日本語テキスト',
  '😀 pair',
  '\ud800 lone high',
  'lone low \udc00',
  '\udc00\ud800 reversed',
  '\u0000\u007f',
  'Ünïcødé ✓ 漢字 with more than thirty-two characters',
];
const LONG_ASCII = 'L'.repeat(70_000);
const LONG_UNICODE = 'ü日'.repeat(33_000) + '😀';
const LONG_LONE = 'a'.repeat(66_000) + '\ud800';
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  NaN,
  Infinity,
  -Infinity,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  0.1,
  0.5,
  1e-310,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
];
const DATE_TIMES = [0, 1, -1, 8.64e15, -8.64e15, 1.7e12, NaN];
/** Objects with an own "__proto__" key, as JSON.parse makes them. */
const PROTO_JSON = [
  '{"__proto__":{"x":1}}',
  '{"a":1,"__proto__":[1,"two",null],"b":"EUR"}',
  '{"__proto__":null}',
  '{"0":"zero","__proto__":"text","constructor":{}}',
];

class Thing {
  constructor(
    readonly a: unknown,
    readonly b: unknown,
  ) {}
}

/** What one value contains, for the checks that depend on it and to prove the run covered it. */
interface Traits {
  typed: boolean;
  invalidDate: boolean;
}

/** How values are made: the share of them with V8-only parts, their size, how many shapes are new. */
interface Mix {
  readonly exotic: number;
  readonly budget: number;
  readonly fresh: number;
  /** The share of nodes below the root that are objects. */
  readonly objects: number;
}

/** Makes random values: plain data mostly, with V8-only parts in some. */
class Values {
  private freshKeys = 0;
  private nodes = 0;
  private exotic = false;
  private budget = 0;
  /** Objects of the value being made (shared references are drawn from them) and its ancestors. */
  private made: object[] = [];
  private ancestors: object[] = [];
  traits: Traits = { typed: false, invalidDate: false };
  readonly seen = new Map<string, number>();

  constructor(
    private readonly random: Random,
    private readonly mix: Mix,
  ) {}

  /** A new value: an object mostly, an array or a lone leaf sometimes. */
  value(): unknown {
    const random = this.random;
    this.exotic = random.chance(this.mix.exotic);
    this.nodes = 0;
    this.made = [];
    this.ancestors = [];
    this.traits = { typed: false, invalidDate: false };
    this.budget = random.chance(0.05) ? 5 * this.mix.budget : this.mix.budget;
    const root = random.next();
    if (root < 0.85) return this.object(0);
    if (root < 0.95) return this.array(0);
    return this.any(0);
  }

  private count(what: string): void {
    this.seen.set(what, (this.seen.get(what) ?? 0) + 1);
  }

  private any(depth: number): unknown {
    this.nodes++;
    const random = this.random;
    const roll = random.next();
    if (depth < 8 && this.nodes < this.budget) {
      if (roll < this.mix.objects) return this.object(depth);
      if (roll < this.mix.objects + 0.12) return this.array(depth);
    }
    if (this.exotic && random.chance(0.12)) return this.special(depth);
    return this.leaf();
  }

  private leaf(): unknown {
    const random = this.random;
    switch (random.int(10)) {
      case 0:
      case 1:
        return random.chance(0.5)
          ? random.pick(NUMBERS)
          : (random.int(2 ** 20) - 2 ** 19) * (random.chance(0.3) ? 0.25 : 1);
      case 2:
      case 3:
      case 4:
        return this.string();
      case 5:
        return random.chance(0.5);
      case 6:
        return null;
      case 7:
        return undefined;
      case 8: {
        const time = random.chance(0.5) ? random.pick(DATE_TIMES) : random.int(4e12) - 1e12;
        if (Number.isNaN(time)) {
          this.traits.invalidDate = true;
          this.count('invalid Date');
        }
        const date = new Date(time);
        this.made.push(date);
        return date;
      }
      default:
        return random.int(1000);
    }
  }

  private string(): string {
    const random = this.random;
    const roll = random.next();
    if (roll < 0.002) {
      this.count('string over 64 KiB');
      return random.pick([LONG_ASCII, LONG_UNICODE, LONG_LONE]);
    }
    if (roll < 0.6) return random.pick(STRINGS);
    let text = '';
    const length = random.int(random.chance(0.2) ? 120 : 12);
    for (let i = 0; i < length; i++) {
      const kind = random.int(20);
      text +=
        kind < 14
          ? String.fromCharCode(0x20 + random.int(0x5f))
          : kind < 16
            ? String.fromCharCode(0x80 + random.int(0x780))
            : kind < 18
              ? String.fromCharCode(0x800 + random.int(0xd000))
              : kind < 19
                ? String.fromCodePoint(0x10000 + random.int(0x1000))
                : String.fromCharCode(0xd800 + random.int(0x800)); // a surrogate, alone or not
    }
    return text;
  }

  /** The keys of a new object: recurring, recurring in another order, fresh, wide or empty. */
  private keys(): string[] {
    const random = this.random;
    const roll = random.next();
    if (roll > this.mix.fresh) return random.pick(TEMPLATES).slice();
    if (roll > 0.01) {
      const keys = new Set<string>();
      const count = random.int(7);
      for (let i = 0; i < count; i++) {
        const kind = random.next();
        if (kind < 0.3 || (i === 0 && kind < 0.7)) keys.add(this.freshKey());
        else if (kind < 0.7) keys.add(random.pick(COMMON_KEYS));
        else keys.add(random.pick(SPECIAL_KEYS));
      }
      return [...keys];
    }
    if (roll > 0.002) return [];
    this.count('wide object');
    const fresh = this.freshKey();
    return Array.from({ length: 60 + random.int(200) }, (_, i) => `${fresh}-field-${i}`);
  }

  private freshKey(): string {
    // Of varied lengths: the writer's registry is bounded by characters.
    return `f${(this.freshKeys++).toString(36)}${'_'.repeat(this.random.int(80))}`;
  }

  private object(depth: number, keys = this.keys()): object {
    const random = this.random;
    if (this.exotic && random.chance(0.03)) {
      this.count('"__proto__" key (JSON.parse)');
      return JSON.parse(random.pick(PROTO_JSON)) as object;
    }
    const nullProto = random.chance(0.05);
    if (nullProto) this.count('null prototype');
    const object: Record<string, unknown> = nullProto ? (Object.create(null) as Record<string, unknown>) : {};
    this.made.push(object);
    this.ancestors.push(object);
    if (this.exotic && random.chance(0.04)) {
      this.count('"__proto__" key (defineProperty)');
      keys.splice(random.int(keys.length + 1), 0, '__proto__');
    }
    for (const key of keys) {
      const value = this.any(depth + 1);
      if (key === '__proto__')
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      else object[key] = value;
    }
    this.ancestors.pop();
    return object;
  }

  private array(depth: number): unknown[] {
    const random = this.random;
    const array: unknown[] = [];
    this.made.push(array);
    this.ancestors.push(array);
    const length = random.int(random.chance(0.1) ? 30 : 6);
    if (depth < 7 && random.chance(0.3)) {
      // Rows: objects of one key list (a shape met again after the shapes of the rows before).
      const keys = this.keys();
      for (let i = 0; i < length; i++) array.push(this.object(depth + 1, keys.slice()));
    } else for (let i = 0; i < length; i++) array.push(this.any(depth + 1));
    if (this.exotic && length > 0 && random.chance(0.1)) {
      this.count('array hole');
      Reflect.deleteProperty(array, random.int(length));
      if (random.chance(0.3)) array.length += 3;
    }
    if (this.exotic && random.chance(0.08)) {
      this.count('array with named properties');
      const named = array as unknown as Record<string, unknown>;
      named[random.pick(['meta', 'x', '-1', '1.5'])] = this.any(depth + 1);
    }
    this.ancestors.pop();
    return array;
  }

  /** What only V8's format writes (or the shaped form leaves to it). */
  private special(depth: number): unknown {
    const random = this.random;
    switch (random.int(12)) {
      case 0:
        this.count('BigInt');
        return BigInt(random.int(2 ** 30)) ** BigInt(1 + random.int(4)) * (random.chance(0.5) ? -1n : 1n);
      case 1: {
        this.count('typed array');
        this.traits.typed = true;
        const bytes = Array.from({ length: random.int(20) }, () => random.int(256));
        switch (random.int(5)) {
          case 0:
            return Buffer.from(bytes);
          case 1:
            return new Uint8Array(bytes);
          case 2:
            return new Float64Array([random.next(), -0, NaN]);
          case 3:
            return new DataView(new Uint8Array(bytes).buffer);
          default:
            return new Uint8Array(bytes).buffer;
        }
      }
      case 2: {
        this.count('Map');
        const map = new Map<unknown, unknown>();
        this.made.push(map);
        for (let i = random.int(4); i > 0; i--) map.set(this.leaf(), this.any(depth + 1));
        return map;
      }
      case 3: {
        this.count('Set');
        const set = new Set<unknown>();
        this.made.push(set);
        for (let i = random.int(4); i > 0; i--) set.add(this.any(depth + 1));
        return set;
      }
      case 4:
        this.count('class instance');
        return new Thing(this.any(depth + 1), this.leaf());
      case 5:
        if (this.made.length === 0) return null;
        this.count('shared reference');
        return random.pick(this.made);
      case 6:
        if (this.ancestors.length === 0) return null;
        this.count('cycle');
        return random.pick(this.ancestors);
      case 7: {
        this.count('Date with an own property');
        return Object.assign(new Date(random.int(1e12)), { note: 'dropped by V8' });
      }
      case 8: {
        this.count('sparse array');
        const sparse: unknown[] = [];
        sparse[random.int(200)] = this.leaf();
        return sparse;
      }
      case 9:
        this.count('RegExp');
        return random.chance(0.5) ? /a+b/giu : new RegExp('[é]', 'y');
      case 10:
        this.count('array of another prototype');
        return Object.setPrototypeOf([this.leaf(), this.leaf()], Object.prototype) as unknown;
      default:
        this.count('boxed primitive');
        return random.chance(0.5) ? Object(5) : Object('boxed');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What the shaped form should do with a value, told independently of shaped-form.ts

/** True when the file comment of shaped-form.ts says `value` is written in the shaped form. */
function isShapedData(value: unknown, depth = 0, seen = new Set<object>()): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= 64 || seen.has(value)) return false;
  seen.add(value);
  const proto: unknown = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (proto !== Array.prototype || Object.keys(value).length !== value.length) return false;
    for (let i = 0; i < value.length; i++)
      if (!(i in value) || !isShapedData(value[i], depth + 1, seen)) return false;
    return true;
  }
  if (types.isDate(value)) return proto === Date.prototype && Object.getOwnPropertyNames(value).length === 0;
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  return Object.keys(record).every(
    (key) => key !== '__proto__' && isShapedData(record[key], depth + 1, seen),
  );
}

/** The key lists of a shaped value's objects, once each, in the order the writer meets them. */
function expectedShapes(value: unknown, into: string[] = [], listed = new Set<string>()): string[] {
  if (typeof value !== 'object' || value === null || types.isDate(value)) return into;
  if (Array.isArray(value)) {
    for (const item of value) expectedShapes(item, into, listed);
    return into;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const text = JSON.stringify(keys);
  if (!listed.has(text)) {
    listed.add(text);
    into.push(text);
  }
  for (const key of keys) expectedShapes(record[key], into, listed);
  return into;
}

/** The shape list at the head of shaped-form bytes, each shape as JSON text. */
function writtenShapes(bytes: Uint8Array): string[] {
  return shapeListOf(bytes).map((keys) => JSON.stringify(keys));
}

// ---------------------------------------------------------------------------------------------
// Comparison with V8's own clone

const RO_MAP = prototypeAfterFreeze(new Map());
const RO_SET = prototypeAfterFreeze(new Set());
const RO_DATE = prototypeAfterFreeze(new Date(0));
const getTime = Date.prototype.getTime;

function prototypeAfterFreeze(value: object): unknown {
  deepFreeze(value);
  return Object.getPrototypeOf(value);
}

function nameOf(proto: unknown): string {
  if (proto === null) return 'null';
  if (proto === RO_DATE) return 'read-only Date';
  if (proto === RO_MAP) return 'read-only Map';
  if (proto === RO_SET) return 'read-only Set';
  const ctor = (proto as { constructor?: { name?: string } }).constructor;
  return `${ctor?.name ?? '?'}.prototype`;
}

function show(value: unknown): string {
  const text = inspect(value, { depth: 4, breakLength: Infinity, maxArrayLength: 6, maxStringLength: 40 });
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

type Build = 'plain' | 'frozen';

/** A problem found below `step`, with the step put in front of its path (paths are made on failure only). */
function under(step: string, problem: string | undefined): string | undefined {
  return problem === undefined ? undefined : step + problem;
}

/**
 * Where `actual` differs from `expected` (a V8 clone), or undefined: same types, values (-0, NaN),
 * own keys in the same order (holes and named array properties included), same sharing of objects,
 * and the prototypes a plain decode or a read-only build gives (`partly`: either, where deepFreeze
 * may stop short because of a typed array).
 */
function difference(actual: unknown, expected: unknown, build: Build, partly = false): string | undefined {
  // Objects met, paired with V8's: the same sharing (cycles included) on both sides.
  const pairs = new Map<object, object>();
  const paired = new Set<object>();
  const visit = (a: unknown, e: unknown): string | undefined => {
    if (typeof e !== 'object' || e === null) {
      if (typeof a === typeof e && Object.is(a, e)) return undefined;
      return `: ${show(a)} where V8 gives ${show(e)}`;
    }
    if (typeof a !== 'object' || a === null) return `: ${show(a)} where V8 gives ${show(e)}`;
    const known = pairs.get(a);
    if (known !== undefined) return known === e ? undefined : `: one object where V8 has two`;
    if (paired.has(e)) return `: a copy where V8 shares one object`;
    pairs.set(a, e);
    paired.add(e);
    const proto: unknown = Object.getPrototypeOf(a);
    const plainProto: unknown = Object.getPrototypeOf(e);
    let want = plainProto;
    if (build === 'frozen') {
      if (types.isDate(e)) want = RO_DATE;
      else if (types.isMap(e)) want = RO_MAP;
      else if (types.isSet(e)) want = RO_SET;
    }
    if (proto !== want && !(partly && proto === plainProto))
      return `: prototype ${nameOf(proto)} where ${nameOf(want)} is expected`;
    if (ArrayBuffer.isView(e) || types.isArrayBuffer(e)) {
      const bytes = (x: object): Buffer =>
        ArrayBuffer.isView(x)
          ? Buffer.from(x.buffer, x.byteOffset, x.byteLength)
          : Buffer.from(x as ArrayBuffer);
      if (Buffer.isBuffer(a) !== Buffer.isBuffer(e) || !bytes(a).equals(bytes(e)))
        return `: ${show(a)} where V8 gives ${show(e)}`;
      return undefined;
    }
    if (types.isDate(e)) {
      if (!types.isDate(a) || !Object.is(getTime.call(a), getTime.call(e)))
        return `: ${show(a)} where V8 gives ${show(e)}`;
    } else if (types.isRegExp(e)) {
      if (!types.isRegExp(a) || String(a) !== String(e)) return `: ${show(a)} where V8 gives ${show(e)}`;
    } else if (types.isMap(e)) {
      if (!types.isMap(a)) return `: not a Map`;
      const ea = [...a];
      const ee = [...e];
      if (ea.length !== ee.length) return `: ${ea.length} entries where V8 gives ${ee.length}`;
      for (let i = 0; i < ee.length; i++) {
        const problem =
          under(`.<key ${i}>`, visit(ea[i]![0], ee[i]![0])) ??
          under(`.<value ${i}>`, visit(ea[i]![1], ee[i]![1]));
        if (problem !== undefined) return problem;
      }
    } else if (types.isSet(e)) {
      if (!types.isSet(a)) return `: not a Set`;
      const ea = [...a];
      const ee = [...e];
      if (ea.length !== ee.length) return `: ${ea.length} members where V8 gives ${ee.length}`;
      for (let i = 0; i < ee.length; i++) {
        const problem = under(`.<member ${i}>`, visit(ea[i], ee[i]));
        if (problem !== undefined) return problem;
      }
    } else if (Array.isArray(e) !== Array.isArray(a)) return `: array and non-array`;
    // All own keys, in order: holes, named array properties and non-enumerable ones count.
    const keysA = Reflect.ownKeys(a);
    const keysE = Reflect.ownKeys(e);
    if (keysA.length !== keysE.length || keysA.some((key, i) => key !== keysE[i]))
      return `: own keys ${show(keysA)} where V8 gives ${show(keysE)}`;
    const recordA = a as Record<PropertyKey, unknown>;
    const recordE = e as Record<PropertyKey, unknown>;
    for (const key of keysE) {
      if (key === 'length' && Array.isArray(e)) continue;
      // An own "__proto__" data property is read as itself, not as the prototype.
      const problem = under(`[${JSON.stringify(String(key))}]`, visit(recordA[key], recordE[key]));
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
  return under('$', visit(actual, expected));
}

/** Where a read-only build left something changeable (typed arrays aside, which cannot be frozen). */
function changeableAt(value: unknown): string | undefined {
  const seen = new Set<object>();
  const visit = (node: unknown): string | undefined => {
    if (typeof node !== 'object' || node === null || seen.has(node)) return undefined;
    seen.add(node);
    if (ArrayBuffer.isView(node) || types.isArrayBuffer(node)) return undefined;
    if (!Object.isFrozen(node)) return `: ${show(node)} is not frozen`;
    const proto: unknown = Object.getPrototypeOf(node);
    if (types.isDate(node) && !isReadOnlyDatePrototype(proto)) return `: a Date with its setters`;
    if (types.isMap(node)) {
      if (proto !== RO_MAP) return `: a Map with its setters`;
      let i = 0;
      for (const [k, v] of node) {
        const problem = under(`.<key ${i}>`, visit(k)) ?? under(`.<value ${i}>`, visit(v));
        if (problem !== undefined) return problem;
        i++;
      }
    }
    if (types.isSet(node)) {
      if (proto !== RO_SET) return `: a Set with its setters`;
      let i = 0;
      for (const v of node) {
        const problem = under(`.<member ${i++}>`, visit(v));
        if (problem !== undefined) return problem;
      }
    }
    for (const key of Reflect.ownKeys(node)) {
      const problem = under(`[${String(key)}]`, visit(Object.getOwnPropertyDescriptor(node, key)?.value));
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
  return under('$', visit(value));
}

/** Where a plain decode gave something frozen, sealed or not extensible. */
function fixedAt(value: unknown): string | undefined {
  const seen = new Set<object>();
  const visit = (node: unknown): string | undefined => {
    if (typeof node !== 'object' || node === null || seen.has(node)) return undefined;
    seen.add(node);
    if (ArrayBuffer.isView(node) || types.isArrayBuffer(node)) return undefined;
    if (!Object.isExtensible(node)) return `: ${show(node)} is frozen in a plain decode`;
    const children: unknown[] = [];
    if (types.isMap(node)) for (const [k, v] of node) children.push(k, v);
    if (types.isSet(node)) children.push(...node);
    for (const key of Reflect.ownKeys(node)) children.push(Object.getOwnPropertyDescriptor(node, key)?.value);
    for (const child of children) {
      const problem = under('.*', visit(child));
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
  return under('$', visit(value));
}

// ---------------------------------------------------------------------------------------------
// The checks

/** Failures by property: the count and the first example of each (all kinds reported at once). */
class Failures {
  private readonly kinds = new Map<string, { count: number; first: string }>();

  add(kind: string, detail: string, value: unknown): void {
    const known = this.kinds.get(kind);
    if (known !== undefined) known.count++;
    else this.kinds.set(kind, { count: 1, first: `${detail}\n    value: ${show(value)}` });
  }

  report(): string[] {
    return [...this.kinds].map(([kind, { count, first }]) => `${kind} (x${count}): ${first}`);
  }
}

const codec = structuredCodec();
const decoders = readOnlyDecoders(codec)!;

interface Checked {
  readonly value: unknown;
  readonly bytes: Uint8Array;
  readonly reference: unknown;
  readonly traits: Traits;
  readonly shaped: boolean;
}

/**
 * A checker with two string pools kept in the same state: the kept build's and the heap walk's.
 * Not `thorough`, a read-only build of the shaped form is compared with V8's clone through its bytes
 * (written again, they must be the bytes it was read from), not node by node: the same check for
 * less time.
 */
class Checker {
  constructor(private readonly thorough: boolean) {}

  readonly failures = new Failures();
  private readonly keptPool = new StringPool();
  private readonly walkPool = new StringPool();
  shapedValues = 0;
  v8Values = 0;
  readonly shapes = new Set<string>();

  /** Checks one value; the bytes and V8's clone of it, for reading again later. */
  check(value: unknown, traits: Traits): Checked {
    const fail = (kind: string, detail: string): void => this.failures.add(kind, detail, value);
    const reference: unknown = deserialize(serialize(value));
    const bytes = codec.encode(value);
    const shaped = isShapedData(value);
    if (shaped) this.shapedValues++;
    else this.v8Values++;
    if (bytes[0] !== (shaped ? SHAPED : 0xff))
      fail('form', `first byte ${bytes[0]}, expected ${shaped ? 'the shaped form' : "V8's format"}`);
    // (Not thorough: a read-only build of it is written again below, to the same bytes.)
    if (this.thorough && !Buffer.from(codec.encode(value)).equals(bytes))
      fail('same bytes twice', 'a second encode wrote other bytes');
    if (shaped && bytes[0] === SHAPED) {
      const written = writtenShapes(bytes);
      const expected = expectedShapes(value);
      for (const text of expected) this.shapes.add(text);
      if (!isDeepStrictEqual(written, expected))
        fail('shape list', `listed ${show(written)}, expected ${show(expected)}`);
    }
    this.reads({ value, bytes, reference, traits, shaped }, fail, true);
    return { value, bytes, reference, traits, shaped };
  }

  /** Reads `checked.bytes` the three ways; `measure` also compares the kept build with the walk. */
  reads(checked: Checked, fail: (kind: string, detail: string) => void, measure: boolean): void {
    const { bytes, reference, traits } = checked;
    const isShapedBytes = bytes[0] === SHAPED;
    // 1. A plain decode: equal to V8's clone, and nothing in it frozen.
    const plain = codec.decode(bytes);
    const problem = difference(plain, reference, 'plain');
    if (problem !== undefined) fail('decode', problem);
    // isDeepStrictEqual too, where it holds for V8's own clones (it finds two invalid Dates unequal).
    else if (!traits.invalidDate && !isDeepStrictEqual(plain, reference))
      fail('decode', 'not isDeepStrictEqual');
    const fixed = fixedAt(plain);
    if (fixed !== undefined) fail('decode is mutable', fixed);
    // 2. A read-only build for a value nothing keeps.
    const transient = decoders.transient(bytes);
    const compare = this.thorough || !isShapedBytes;
    const transientProblem = compare ? difference(transient, reference, 'frozen', traits.typed) : undefined;
    if (transientProblem !== undefined) fail('transient', transientProblem);
    if (!traits.typed) {
      const open = changeableAt(transient);
      if (open !== undefined) fail('transient is read-only', open);
    }
    if (isShapedBytes && !Buffer.from(codec.encode(transient)).equals(bytes))
      fail('encode of a read-only build', 'other bytes than the value it was read from');
    // 3. A read-only build measured for keeping: only for the shaped form.
    if (!measure) return;
    if (!isShapedBytes) {
      if (decoders.kept(bytes, this.keptPool) !== undefined) fail('kept', "built a value of V8's format");
      return;
    }
    const held = decoders.kept(bytes, this.keptPool);
    if (held === undefined) {
      fail('kept', 'undefined for the shaped form');
      return;
    }
    const heldProblem = compare ? difference(held.value, reference, 'frozen') : undefined;
    if (heldProblem !== undefined) fail('kept', heldProblem);
    const open = changeableAt(held.value);
    if (open !== undefined) fail('kept is read-only', open);
    // The walk of the plain decode (checked above; the walk only swaps its strings for equal ones).
    const measured = compactAndMeasure(plain, this.walkPool);
    // What a key set new to the process costs is counted by the tally alone (HeapTally.newKeys).
    if (held.heapBytes - held.unwalkedBytes !== measured)
      fail('kept heapBytes', `${held.heapBytes - held.unwalkedBytes} where the walk counts ${measured}`);
    if (!Buffer.from(codec.encode(held.value)).equals(bytes))
      fail('encode of a kept build', 'other bytes than the value it was read from');
  }
}

interface Run {
  readonly checker: Checker;
  readonly values: Values;
  readonly count: number;
  readonly cacheRestarts: number;
  readonly mostCompiled: number;
}

/** Checks values made with `mix` until `enough` says so; some earlier ones are read again on the way. */
function run(
  seed: number,
  mix: Mix,
  thorough: boolean,
  enough: (count: number, checker: Checker) => boolean,
): Run {
  const random = new Random(seed);
  const values = new Values(random, mix);
  const checker = new Checker(thorough);
  const recent: Checked[] = [];
  let cacheRestarts = 0;
  let lastCached = cachedShapeBytes();
  let mostCompiled = 0;
  let count = 0;
  while (!enough(count, checker)) {
    const checked = checker.check(values.value(), values.traits);
    count++;
    if (recent.length < 512) recent.push(checked);
    else recent[random.int(512)] = checked;
    // A value written before others (other shapes, registries started over since): read again, and
    // written again to the same bytes.
    if (random.chance(0.05)) {
      const old = random.pick(recent);
      const fail = (kind: string, detail: string): void =>
        checker.failures.add(`${kind}, read again later`, detail, old.value);
      checker.reads(old, fail, false);
      if (!Buffer.from(codec.encode(old.value)).equals(old.bytes))
        fail('same bytes later', 'encoding it again after others wrote other bytes');
    }
    const cached = cachedShapeBytes();
    if (cached < lastCached) cacheRestarts++;
    lastCached = cached;
    mostCompiled = Math.max(mostCompiled, compiledBuilderCount());
  }
  return { checker, values, count, cacheRestarts, mostCompiled };
}

describe('structuredCodec, fuzzed', () => {
  it('reads back random values, V8-only parts in some, as V8 does: decoded, built read-only, built and measured', () => {
    const { checker, values, count } = run(
      0x5eed,
      { exotic: 0.4, budget: 24, fresh: 0.5, objects: 0.35 },
      true,
      (n) => n >= 1000,
    );
    expect(checker.failures.report()).toEqual([]);
    // What the run covered (so that a generator gone dull fails here, not silently).
    expect(checker.shapedValues).toBeGreaterThan(count / 3);
    expect(checker.v8Values).toBeGreaterThan(count / 5);
    for (const kind of [
      'string over 64 KiB',
      'invalid Date',
      'wide object',
      'null prototype',
      '"__proto__" key (JSON.parse)',
      '"__proto__" key (defineProperty)',
      'array hole',
      'array with named properties',
      'BigInt',
      'typed array',
      'Map',
      'Set',
      'class instance',
      'shared reference',
      'cycle',
      'sparse array',
      'RegExp',
      'Date with an own property',
      'array of another prototype',
      'boxed primitive',
    ])
      expect(values.seen.get(kind) ?? 0, kind).toBeGreaterThan(0);
  });

  it('reads back values of more than 20,000 shapes, as the writer and reader registries fill and start over', () => {
    const { checker, cacheRestarts, mostCompiled } = run(
      0xc0ffee,
      { exotic: 0.05, budget: 10, fresh: 0.95, objects: 0.6 },
      false,
      (n, { shapes }) => shapes.size > 20_500 || n >= 20_000,
    );
    expect(checker.failures.report()).toEqual([]);
    expect(checker.shapes.size).toBeGreaterThan(20_000);
    // The writer's registry holds 256 Ki characters of shape text (MAX_KNOWN_CHARS): it started over.
    const shapeChars = [...checker.shapes].reduce((sum, text) => sum + text.length, 0);
    expect(shapeChars).toBeGreaterThan(3 * 256 * 1024);
    // The reader's cache of shape lists started over, with its compiled builders at their bound.
    expect(cacheRestarts).toBeGreaterThanOrEqual(2);
    expect(mostCompiled).toBe(MAX_COMPILED_BUILDERS);
  });

  it('reads two shape lists of one hash apart, each in the three ways, on first and on compiled reads', () => {
    // '[["c43zx"]]' and '[["cbpad"]]' have the same FNV-1a hash: the reader keeps one, reads the other.
    const one = { c43zx: 1.5, nested: [{ c43zx: 'EUR' }] };
    const other = { cbpad: 'two', nested: [{ cbpad: new Date(3) }] };
    const single = [codec.encode({ c43zx: 1 }), codec.encode({ cbpad: 1 })];
    expect(Buffer.from(single[0]!.subarray(1, 5))).toEqual(Buffer.from(single[1]!.subarray(1, 5)));
    const checker = new Checker(true);
    const traits: Traits = { typed: false, invalidDate: false };
    for (let round = 0; round < 3; round++) {
      for (const value of [{ c43zx: round }, { cbpad: round }, one, other]) checker.check(value, traits);
    }
    expect(checker.failures.report()).toEqual([]);
    expect(checker.shapedValues).toBe(12);
  });

  it('writes 64 levels of nesting in the shaped form and leaves 65 to V8, each read back the three ways', () => {
    const checker = new Checker(true);
    const traits: Traits = { typed: false, invalidDate: false };
    for (const levels of [63, 64, 65]) {
      for (const kind of ['objects', 'arrays', 'both']) {
        for (const leaf of ['leaf', new Date(1)]) {
          let value: unknown = leaf;
          for (let level = 0; level < levels; level++)
            value =
              kind === 'arrays' || (kind === 'both' && level % 2 === 1)
                ? [value]
                : { [`d${level % 3}`]: value };
          const form = codec.encode(value)[0];
          // A Date is an object of its own: inside 64 levels it is the 65th.
          expect(form, `${levels} levels of ${kind} around ${String(leaf)}`).toBe(
            levels < 64 || (levels === 64 && typeof leaf === 'string') ? SHAPED : 0xff,
          );
          checker.check(value, traits);
        }
      }
    }
    expect(checker.failures.report()).toEqual([]);
  });

  // Found by this file: deepFreeze walked an array's indices only, so what an array held in named
  // properties (which V8's format keeps) stayed changeable while deepFreeze reported the value
  // immutable, and the cache held it as shared: a caller changing `list.meta.x` changed what every
  // later caller got.
  it('freezes what an array of a V8-format value holds in its named properties', () => {
    const value = { list: Object.assign([1, 2], { meta: { x: 1 }, at: new Date(5) }) };
    const bytes = codec.encode(value);
    expect(bytes[0]).toBe(0xff);
    const decoded = codec.decode(bytes) as typeof value;
    expect(deepFreeze(decoded)).toBe(true);
    expect(Object.isFrozen(decoded.list.meta)).toBe(true);
    const transient = decoders.transient(bytes) as typeof value;
    expect(Object.isFrozen(transient.list.meta)).toBe(true);
    expect(() => transient.list.at.setTime(0)).toThrow(TypeError);
  });

  // Found by this file: when adding a shape started the writer's registry over (knownShape), the
  // value being written had listed shapes of the old registry; its next object of such a shape got a
  // new KnownShape, listed again. The bytes read back right, but the list held a shape twice and the
  // same value encoded again gave other bytes.
  it('lists a shape once, and writes a value to the same bytes again, when the registry starts over inside it', () => {
    for (let i = 0; i < 3000; i++) {
      // ~120 characters of new shape text each: the registry (256 Ki characters) starts over within.
      const value = [{ a: 1 }, { [`restart-${i}-${'x'.repeat(100)}`]: 2 }, { a: 3 }];
      const bytes = encodeShaped(value)!;
      const again = encodeShaped(value)!;
      const list = writtenShapes(bytes);
      if (new Set(list).size !== list.length || !again.equals(bytes)) {
        expect(list, `value ${i}`).toEqual(expectedShapes(value));
        expect(again.equals(bytes), `value ${i}: encoded twice`).toBe(true);
      }
    }
  });
});
