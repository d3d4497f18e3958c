// The default codec against the binary alternatives that also round-trip more than JSON (issue 18,
// item 4): is there a faster decode than V8's that keeps Dates, Maps, Sets, BigInts and typed
// arrays?
//
// Candidates, each encoding with one instance and decoding with another (as a peer would), all
// configured to copy the Buffers they decode (copyBuffers), as structuredCodec() does, so that no
// decoded Buffer aliases the stored bytes:
//   - V8's format (node:v8 serialize, structuredCodec()'s detaching deserializer): the reference
//   - distcache structuredCodec(), the default: the shaped form for plain data (since 2026-12-04;
//     JSON text with Date paths before), V8's format otherwise (see default-codec.bench.mjs)
//   - msgpackr Packr { structuredClone: true } with records (useRecords, its default) and without
//   - msgpackr with one `structures` table shared by every instance: the exception to the rule
//     below, shown for the speed of records whose definitions the reader already holds; a cache
//     cannot use it (every node, across restarts, would have to share that table)
//   - cbor-x Encoder { structuredClone: true }
// Values: the ~1 KB bench product (strings, numbers, two Dates, arrays, nested objects), a small
// record (6 fields) and a value with a Map, a Set, BigInts, a Buffer and typed arrays. Encode and
// decode are timed separately (decode is what every read of an entry in valueMode 'copy', every
// first read and every remote hit pays); the fidelity table says what each candidate gives back.
//
// Run:     npm run build -w distcache-core && node bench/codec/alternatives.bench.mjs
// Options: --rounds=20 --sample-ms=10 --warmup-ms=300 --seed=7
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { serialize } from 'node:v8';
import { structuredCodec } from 'distcache-core';
import { Encoder, isNativeAccelerationEnabled as cborNative } from 'cbor-x';
import { Packr, isNativeAccelerationEnabled as msgpackrNative } from 'msgpackr';
import { measureInterleaved } from '../lib/measure.mjs';
import { makeProduct } from '../lib/product.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const ROUNDS = numberFlag(flags, 'rounds', 20);
const SAMPLE_MS = numberFlag(flags, 'sample-ms', 10);
const WARMUP_MS = numberFlag(flags, 'warmup-ms', 300);
const SEED = numberFlag(flags, 'seed', 7);

// Neither package exports its package.json: read the one above its entry file.
const require = createRequire(import.meta.url);
function versionOf(name) {
  for (let dir = dirname(require.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).name === name)
      return JSON.parse(readFileSync(file, 'utf8')).version;
  }
  return '?';
}

// A candidate makes a fresh codec object per call, so a value is always decoded by an instance
// other than the one that encoded it: bytes that lean on state kept by the encoder (msgpackr's and
// cbor-x's shared record structures) would fail here as they would on another peer.
const REFERENCE = 'V8 format (node:v8)';
/** The one record table of the 'shared structures' row: state no two cache nodes could share. */
const SHARED_STRUCTURES = [];
const candidates = [
  // V8's format alone: serialize, read back by structuredCodec()'s detaching deserializer.
  {
    name: REFERENCE,
    make: () => ({ encode: (value) => serialize(value), decode: structuredCodec().decode }),
  },
  // The default: the shaped form for plain data, V8's format otherwise.
  { name: 'distcache structuredCodec() (default)', make: () => structuredCodec() },
  {
    name: 'msgpackr, records on',
    make: () => new Packr({ structuredClone: true, copyBuffers: true }),
  },
  {
    name: 'msgpackr, records off',
    make: () => new Packr({ structuredClone: true, useRecords: false, copyBuffers: true }),
  },
  {
    name: 'cbor-x',
    make: () => new Encoder({ structuredClone: true, copyBuffers: true }),
  },
  {
    name: 'msgpackr, shared structures (not usable)',
    make: () => new Packr({ structures: SHARED_STRUCTURES, moreTypes: true, copyBuffers: true }),
  },
];

// --- the values ---------------------------------------------------------------------------------

const values = [
  { name: '~1 KB bench product', value: makeProduct(4_242) },
  {
    name: 'small record',
    value: { id: 'u-000042', name: 'Ada Lovelace', active: true, visits: 17, score: 4.5, plan: 'pro' },
  },
  {
    name: 'Map, Set, BigInt, typed arrays',
    value: {
      id: 'inv-7',
      updatedAt: new Date(Date.UTC(2026, 11, 2, 6, 0)),
      stockByWarehouse: new Map([
        ['ams', 12],
        ['fra', 0],
        ['lis', 7],
        ['waw', 31],
      ]),
      lastOrderByCustomer: new Map([
        [1001, new Date(Date.UTC(2026, 10, 30))],
        [1002, new Date(Date.UTC(2026, 11, 1))],
      ]),
      tags: new Set(['sale', 'outdoor', 'new']),
      revenueCents: 12_345_678_901_234_567_890n,
      version: 42n,
      thumbnail: Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 31) & 0xff)),
      checksum: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
      readings: Float64Array.from({ length: 16 }, (_, i) => i * 0.25),
      history: [{ at: new Date(Date.UTC(2026, 0, 1)), counts: new Uint32Array([1, 2, 3]) }],
    },
  },
];

// --- fidelity -------------------------------------------------------------------------------------

/** Encodes with one instance, decodes with another; a throw anywhere is a failed check. */
function roundTrip(candidate, value) {
  return candidate.make().decode(candidate.make().encode(value));
}
const same = (candidate, value) => {
  try {
    return isDeepStrictEqual(roundTrip(candidate, value), value);
  } catch {
    return false;
  }
};
// isDeepStrictEqual compares prototypes, so a Map that comes back as an object, a Buffer that comes
// back as a Uint8Array or -0 that comes back as 0 fails.
const checks = [
  {
    name: 'Date',
    run: (c) => {
      // isDeepStrictEqual calls two Invalid Dates different (NaN !== NaN), so that one is apart.
      const dates = { a: new Date(1_764_655_200_123), old: new Date(-1e13), far: new Date(8.64e15) };
      try {
        const invalid = roundTrip(c, { d: new Date(NaN) }).d;
        return same(c, dates) && invalid instanceof Date && Number.isNaN(invalid.getTime());
      } catch {
        return false;
      }
    },
  },
  {
    name: 'Map',
    run: (c) =>
      same(c, {
        m: new Map([
          ['a', 1],
          [2, 'b'],
          [true, null],
        ]),
        empty: new Map(),
      }),
  },
  { name: 'Set', run: (c) => same(c, { s: new Set(['a', 2, 3n]), empty: new Set() }) },
  {
    name: 'BigInt',
    run: (c) => same(c, { small: 42n, neg: -5n, wide: 2n ** 100n + 1n, u64: 2n ** 64n - 1n }),
  },
  {
    name: 'typed arrays',
    run: (c) =>
      same(c, {
        u8: new Uint8Array([1, 2, 3]),
        buffer: Buffer.from('bytes'),
        f64: new Float64Array([1.5, -2]),
        i32: new Int32Array([-1, 7]),
      }),
  },
  { name: 'nested', run: (c) => values.every(({ value }) => same(c, { wrap: [value, { deeper: value }] })) },
  // The cache stores the encoded bytes and decodes them on reads: a decoded Buffer that is a view
  // over them would let a caller write into the stored entry.
  {
    name: 'detached Buffers',
    run: (c) => {
      try {
        const bytes = c.make().encode({ b: Buffer.from('abc'), u: new Uint8Array([1]) });
        const back = c.make().decode(bytes);
        return back.b.buffer !== bytes.buffer && back.u.buffer !== bytes.buffer;
      } catch {
        return false;
      }
    },
  },
  // Beyond the list: what V8 also keeps.
  { name: '-0', run: (c) => same(c, { z: -0 }) },
  { name: 'undefined, NaN', run: (c) => same(c, { u: undefined, n: NaN, list: [undefined] }) },
  { name: 'array holes', run: (c) => same(c, { sparse: [1, , 3] }) },
  {
    name: 'cycles',
    run: (c) => {
      try {
        const value = { name: 'loop' };
        value.self = value;
        const back = roundTrip(c, value);
        return back.self === back;
      } catch {
        return false;
      }
    },
  },
  { name: '__proto__ key', run: (c) => same(c, JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}')) },
];
// What the issue requires a candidate to keep; the rest is shown but not required.
const REQUIRED = new Set(['Date', 'Map', 'Set', 'BigInt', 'typed arrays', 'nested', 'detached Buffers']);
const fidelity = new Map(
  candidates.map((candidate) => [
    candidate,
    new Map(checks.map((check) => [check.name, check.run(candidate)])),
  ]),
);
const missing = (candidate) =>
  [...fidelity.get(candidate)].filter(([name, ok]) => !ok && REQUIRED.has(name)).map(([name]) => name);

// --- measurement ----------------------------------------------------------------------------------

let sink = 0;
const encodeLoop = (codec, value) => (n) => {
  for (let i = 0; i < n; i++) sink ^= codec.encode(value).length;
};
const decodeLoop = (codec, bytes) => (n) => {
  for (let i = 0; i < n; i++) sink ^= codec.decode(bytes) === undefined ? 1 : 2;
};

console.log(`codec-alternatives: ${machineLine()}`);
console.log(
  `msgpackr ${versionOf('msgpackr')} (native string extraction ${msgpackrNative ? 'on' : 'off'}), ` +
    `cbor-x ${versionOf('cbor-x')} (native ${cborNative ? 'on' : 'off'}); ` +
    `${ROUNDS} rounds, each timing one ~${SAMPLE_MS} ms batch per candidate in random order; medians over rounds; ` +
    'ratios paired within rounds (see bench/lib/measure.mjs)\n',
);
const report = createResults('codec-alternatives');

const decodeBars = [];
for (const { name: valueName, value } of values) {
  const prepared = candidates.map((candidate) => {
    const bytes = candidate.make().encode(value);
    let back;
    try {
      back = candidate.make().decode(bytes);
    } catch {
      back = undefined;
    }
    return { candidate, bytes, exact: isDeepStrictEqual(back, value) };
  });
  const results = await measureInterleaved(
    prepared.flatMap(({ candidate, bytes }) => [
      { name: `${candidate.name} encode`, run: encodeLoop(candidate.make(), value) },
      { name: `${candidate.name} decode`, run: decodeLoop(candidate.make(), bytes) },
    ]),
    { rounds: ROUNDS, sampleMs: SAMPLE_MS, warmupMs: WARMUP_MS, seed: SEED },
  );
  const result = (name) => results.find((measurement) => measurement.name === name);
  const reference = prepared.find(({ candidate }) => candidate.name === REFERENCE);
  const title = `${valueName} (${reference.bytes.length} bytes as V8)`;
  console.log(`\n${title}`);
  report.table(
    title,
    prepared.map(({ candidate, bytes, exact }) => {
      const encode = result(`${candidate.name} encode`);
      const decode = result(`${candidate.name} decode`);
      const lost = missing(candidate);
      return {
        codec: candidate.name,
        'decode µs': (1e6 / decode.opsPerSecond).toFixed(2),
        'decode speed vs V8': formatRatio(decode.ratioTo(result(`${REFERENCE} decode`)).ratio),
        'encode µs': (1e6 / encode.opsPerSecond).toFixed(2),
        'encode speed vs V8': formatRatio(encode.ratioTo(result(`${REFERENCE} encode`)).ratio),
        size: `${bytes.length} B`,
        'size vs V8': formatRatio(bytes.length / reference.bytes.length),
        'this value back': exact ? 'equal' : 'DIFFERS',
        fidelity: lost.length === 0 ? 'full' : `LOSES ${lost.join(', ')}`,
      };
    }),
  );
  decodeBars.push({
    label: valueName,
    bars: prepared.map(({ candidate }) => ({
      label: candidate.name,
      value: 1e6 / result(`${candidate.name} decode`).opsPerSecond,
    })),
  });
}

console.log(
  '\nRound-trip fidelity (encoded by one instance, decoded by another; "NO" = not given back equal)',
);
report.table(
  'Round-trip fidelity',
  candidates.map((candidate) => ({
    codec: candidate.name,
    ...Object.fromEntries(
      [...fidelity.get(candidate)].map(([name, ok]) => [
        REQUIRED.has(name) ? name : `${name} (extra)`,
        ok ? 'yes' : 'NO',
      ]),
    ),
  })),
);
const legend =
  'Required by issue 18: Date, Map, Set, BigInt, typed arrays (Buffer stays Buffer), nested, detached ' +
  'Buffers (decoded Buffers do not alias the stored bytes). "(extra)": what V8 also keeps, not required.';
console.log(legend);
report.note(legend);
report.chart({
  id: 'decode',
  title: 'Decode time by codec and value',
  unit: 'µs/decode',
  higherIsBetter: false,
  groups: decodeBars,
});
await report.write();

if (sink === 0.5) console.log(sink); // keeps results observable so no loop is optimised away
