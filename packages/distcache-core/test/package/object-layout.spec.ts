// The heap-size count (src/codec/heap-size.ts) assumes the layout V8 gives the objects a decoder
// builds: properties in the object and a property array (a "fast" object), or a hash table past a
// number of named keys that depends on the builder: 16 for the shaped form's key-by-key builder
// (a key list's first read), 127 for its compiled literals and for JSON.parse, 1,020 for V8's
// deserializer. V8 chooses by how an
// object is built and by what the process built before (hidden classes left to follow), so this is
// checked where it matters: in a fresh process that never built an object of those keys, as a peer
// receiving a hot copy is, asking V8 itself (`%HasFastProperties`, --allow-natives-syntax). Runs
// the built package (`npm run build` first), like the other process-based tests.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { jsonCodec, structuredCodec } from '../../src/codec';
import { describe, expect, it } from 'vitest';

const packageRoot = join(import.meta.dirname, '..', '..');

interface Case {
  name: string;
  codec: 'structured' | 'json';
  bytes: string;
}

/** An object of `count` named keys (and `ids` integer keys first), values of mixed kinds. */
function record(count: number, ids = 0): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (let i = 0; i < ids; i++) value[String(10 + i)] = i;
  for (let i = 0; i < count; i++) value[`field_${i}`] = i % 3 === 0 ? `text ${i}` : i % 3 === 1 ? i : i / 4;
  return value;
}

/**
 * The layout of every plain object of each case's value, read `reads` times in a process of its
 * own: per read, one letter per object in the order a walk meets them, 'F' in the object and its
 * property array, 'd' a hash table (dictionary mode).
 */
function layouts(cases: readonly Case[], reads: number, keySetsBefore = 0): Record<string, string[]> {
  const child = `
    import { jsonCodec, structuredCodec } from 'distcache-core';
    const codecs = { structured: structuredCodec(), json: jsonCodec() };
    const cases = JSON.parse(process.env.CASES);
    const letters = (value) =>
      value === null || typeof value !== 'object'
        ? ''
        : (Object.getPrototypeOf(value) === Object.prototype ? (%HasFastProperties(value) ? 'F' : 'd') : '') +
          Object.values(value).map(letters).join('');
    // Values whose keys are data (e-mails), each a key set of its own, encoded and read first.
    for (let i = 0; i < ${keySetsBefore}; i++) {
      const keys = Array.from({ length: 30 }, (_, k) => ['u' + (i * 30 + k) + '@example.com', k]);
      codecs.structured.decode(codecs.structured.encode(Object.fromEntries(keys)));
    }
    const out = {};
    for (const { name, codec, bytes } of cases) {
      const data = Buffer.from(bytes, 'base64');
      out[name] = [];
      for (let read = 0; read < ${reads}; read++) out[name].push(letters(codecs[codec].decode(data)));
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const output = execFileSync(
    process.execPath,
    ['--allow-natives-syntax', '--input-type=module', '--eval', child],
    { cwd: packageRoot, env: { ...process.env, CASES: JSON.stringify(cases) }, encoding: 'utf8' },
  );
  return JSON.parse(output) as Record<string, string[]>;
}

function encoded(name: string, codec: 'structured' | 'json', value: unknown): Case {
  const bytes = (codec === 'json' ? jsonCodec() : structuredCodec()).encode(value);
  return { name, codec, bytes: Buffer.from(bytes).toString('base64') };
}

describe('the object layout the heap-size count assumes, in a process new to the keys', () => {
  // V8 lays out an object built key by key as the objects the process built before let it (the
  // hidden classes they left, how many transitions `{}` still takes): each case is read in a fresh
  // process, and in one that read 5,000 values of keys of their own (ids, e-mails as keys) first.
  it.each([0, 5_000])(
    'gets objects of the default codec in the layouts its count takes (%i key sets read before)',
    (keySetsBefore) => {
      const seen = layouts(
        [
          // Up to 16 named keys, assigned one by one on the first read: in the object.
          encoded('16 keys', 'structured', record(16)),
          // More: a hash table on the first read (V8 would choose by what the process built before),
          // a compiled literal from the second read on, up to 127 keys.
          encoded('17 keys', 'structured', record(17)),
          encoded('127 keys', 'structured', record(127)),
          // More keys than the shaped form compiles: a hash table on every read.
          encoded('128 keys', 'structured', record(128)),
          // Keys Object.prototype has, assigned to the table, then compiled.
          encoded('30 keys with toString', 'structured', { ...record(29), toString: 'x' }),
          // Integer keys are never compiled: past 16 named keys, a hash table every time.
          encoded('5 ids and 10 keys', 'structured', record(10, 5)),
          encoded('5 ids and 40 keys', 'structured', record(40, 5)),
          // Every object of a value: the outer one, the inner one, the two in the list.
          encoded('nested', 'structured', { outer: 1, inner: record(50), list: [record(30), record(3)] }),
          // V8's format (a Map in the value): its deserializer keeps objects in their fast layout up to 1,020 keys.
          encoded('V8 format, 1,020 keys', 'structured', { map: new Map(), record: record(1_020) }),
          encoded('V8 format, 1,021 keys', 'structured', { map: new Map(), record: record(1_021) }),
        ],
        3,
        keySetsBefore,
      );
      expect(seen).toEqual({
        '16 keys': ['F', 'F', 'F'],
        '17 keys': ['d', 'F', 'F'],
        '127 keys': ['d', 'F', 'F'],
        '128 keys': ['d', 'd', 'd'],
        '30 keys with toString': ['d', 'F', 'F'],
        '5 ids and 10 keys': ['F', 'F', 'F'],
        '5 ids and 40 keys': ['d', 'd', 'd'],
        nested: ['FddF', 'FFFF', 'FFFF'],
        'V8 format, 1,020 keys': ['FF', 'FF', 'FF'],
        'V8 format, 1,021 keys': ['Fd', 'Fd', 'Fd'],
      });
    },
  );

  it('gives the hash tables it builds one hidden class, not one each (property reads stay monomorphic)', () => {
    const dataKeys = (salt: number) =>
      Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`u${salt * 30 + k}@example.com`, k]));
    const pairs = [
      ['keys that are data', dataKeys(1), dataKeys(2)],
      ['128 keys', record(128), record(128)],
      ['5 ids and 40 keys', record(40, 5), record(40, 5)],
    ] as const;
    const child = `
      import { structuredCodec } from 'distcache-core';
      const codec = structuredCodec();
      const pairs = JSON.parse(process.env.PAIRS);
      const out = {};
      for (const [name, a, b] of pairs) {
        const [x, y] = [a, b].map((bytes) => codec.decode(Buffer.from(bytes, 'base64')));
        out[name] = [%HasFastProperties(x), %HasFastProperties(y), %HaveSameMap(x, y)];
      }
      process.stdout.write(JSON.stringify(out));
    `;
    const encode = (value: unknown) => Buffer.from(structuredCodec().encode(value)).toString('base64');
    const output = execFileSync(
      process.execPath,
      ['--allow-natives-syntax', '--input-type=module', '--eval', child],
      {
        cwd: packageRoot,
        env: {
          ...process.env,
          PAIRS: JSON.stringify(pairs.map(([name, a, b]) => [name, encode(a), encode(b)])),
        },
        encoding: 'utf8',
      },
    );
    // [first in the fast layout, second in the fast layout, one hidden class for both]
    expect(JSON.parse(output)).toEqual({
      'keys that are data': [false, false, true],
      '128 keys': [false, false, true],
      '5 ids and 40 keys': [false, false, true],
    });
  });

  it('gets objects from JSON.parse in the object up to 127 named keys, a hash table from 128', () => {
    expect(
      layouts(
        [encoded('json 127 keys', 'json', record(127)), encoded('json 128 keys', 'json', record(128))],
        2,
      ),
    ).toEqual({ 'json 127 keys': ['F', 'F'], 'json 128 keys': ['d', 'd'] });
  });
});
