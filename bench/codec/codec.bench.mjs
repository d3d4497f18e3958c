// Codec and read protection: the evidence behind two choices in distcache-core.
//
// (a) The default codec is structuredCodec() (node:v8 serialize/deserialize) rather than JSON.
//     Round trip (encode + decode) of one ~1 KB product, plus encode and decode alone. Reference:
//     JSON.stringify + JSON.parse with a reviver that restores Dates (what a JSON codec has to do
//     to give back the Dates it was given).
// (b) Reads return one shared, deeply frozen value (valueMode 'frozen', the default) rather than a
//     fresh copy per read. Per-read cost of the shared value vs structuredClone vs v8.deserialize.
//     Reference: structuredCodec().decode, which is what valueMode 'copy' does on every read. Then
//     the price of sharing: the first read of an entry decodes and deep-freezes it, measured
//     through engine.get.
//
// Run:     npm run build -w distcache-core && node bench/codec/codec.bench.mjs
// Options: --rounds=30 --sample-ms=10 --seed=7
import { deserialize, serialize } from 'node:v8';
import { DistCacheEngine, defineKeySpace, jsonCodec, structuredCodec } from 'distcache-core';
import { measureInterleaved } from '../lib/measure.mjs';
import { makeProduct } from '../lib/product.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatNs, formatRate, formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const ROUNDS = numberFlag(flags, 'rounds', 30);
const SAMPLE_MS = numberFlag(flags, 'sample-ms', 10);
const SEED = numberFlag(flags, 'seed', 7);

const product = makeProduct(4_242);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
// A codec cannot know which fields are Dates, so the reviver tests every string.
const reviveDates = (_key, value) =>
  typeof value === 'string' && ISO_DATE.test(value) ? new Date(value) : value;

const structured = structuredCodec();
const json = jsonCodec();

const codecs = [
  {
    name: 'node:v8 serialize / deserialize',
    encode: (value) => serialize(value),
    decode: (bytes) => deserialize(bytes),
  },
  {
    name: 'distcache structuredCodec() (v8, decodes from a copy)',
    encode: structured.encode,
    decode: structured.decode,
  },
  {
    name: 'JSON.stringify / JSON.parse (plain, to a string)',
    encode: (value) => JSON.stringify(value),
    decode: (text) => JSON.parse(text),
  },
  {
    name: 'JSON.stringify / JSON.parse + Date reviver',
    encode: (value) => JSON.stringify(value),
    decode: (text) => JSON.parse(text, reviveDates),
  },
  {
    name: 'distcache jsonCodec() (UTF-8 bytes, key filter)',
    encode: json.encode,
    decode: json.decode,
  },
];
const REFERENCE_CODEC = 'JSON.stringify / JSON.parse + Date reviver';

// The codec operations cost 0.5-10 µs, so one shared loop calling each codec through a function
// value is fine here: the indirect call adds a few ns (bench/local-hit needs one loop per candidate).
let sink = 0;
const roundTrip = (codec) => (n) => {
  for (let i = 0; i < n; i++) sink ^= codec.decode(codec.encode(product)).stock;
};
const encodeOnly = (codec) => (n) => {
  for (let i = 0; i < n; i++) sink ^= codec.encode(product).length;
};
const decodeOnly = (codec, encoded) => (n) => {
  for (let i = 0; i < n; i++) sink ^= codec.decode(encoded).stock;
};

console.log(`codec: ${machineLine()}`);
const report = createResults('codec');
console.log(
  `one ~1 KB product (${serialize(product).length} bytes as v8, ${JSON.stringify(product).length} as JSON); ` +
    `${ROUNDS} rounds, each timing one ~${SAMPLE_MS} ms batch per candidate in random order; medians over rounds; ` +
    'ops/s per CPU-second of this process, ratios paired within rounds (see bench/lib/measure.mjs)\n',
);

// --- (a) codecs ---------------------------------------------------------------------------------

const codecCandidates = codecs.flatMap((codec) => {
  const encoded = codec.encode(product);
  return [
    { name: `${codec.name} round trip`, codec, run: roundTrip(codec) },
    { name: `${codec.name} encode`, codec, run: encodeOnly(codec) },
    { name: `${codec.name} decode`, codec, run: decodeOnly(codec, encoded) },
  ];
});
const codecResults = await measureInterleaved(codecCandidates, {
  rounds: ROUNDS,
  sampleMs: SAMPLE_MS,
  seed: SEED,
});
const result = (name) => codecResults.find((candidate) => candidate.name === name);

console.log('(a) Encode + decode of the same ~1 KB product');
report.table(
  '(a) Encode + decode of the same ~1 KB product',
  codecs.map((codec) => {
    const encoded = codec.encode(product);
    const back = codec.decode(encoded);
    const trip = result(`${codec.name} round trip`);
    return {
      codec: codec.name,
      'round trips/s': formatRate(trip.opsPerSecond),
      'µs/round trip': (1e6 / trip.opsPerSecond).toFixed(2),
      'vs JSON + reviver': formatRatio(trip.ratioTo(result(`${REFERENCE_CODEC} round trip`)).ratio),
      'encode µs': (1e6 / result(`${codec.name} encode`).opsPerSecond).toFixed(2),
      'decode µs': (1e6 / result(`${codec.name} decode`).opsPerSecond).toFixed(2),
      size: `${typeof encoded === 'string' ? Buffer.byteLength(encoded) : encoded.length} B`,
      'Dates back': back.createdAt instanceof Date ? 'yes' : 'no (strings)',
    };
  }),
);

// --- (b) read protection ------------------------------------------------------------------------

const stored = structured.encode(product);
const shared = structured.decode(stored);
Object.freeze(shared); // stands in for the engine's deep freeze: a read only returns the reference
const readCandidates = [
  {
    name: "shared deep-frozen value (valueMode 'frozen', after the first read)",
    run: (n) => {
      for (let i = 0; i < n; i++) sink ^= shared.stock;
    },
  },
  {
    name: 'structuredClone(value) per read',
    run: (n) => {
      for (let i = 0; i < n; i++) sink ^= structuredClone(shared).stock;
    },
  },
  {
    name: 'node:v8 deserialize(bytes) per read',
    run: (n) => {
      for (let i = 0; i < n; i++) sink ^= deserialize(stored).stock;
    },
  },
  {
    name: "structuredCodec().decode per read (valueMode 'copy')",
    run: (n) => {
      for (let i = 0; i < n; i++) sink ^= structured.decode(stored).stock;
    },
  },
];
const REFERENCE_READ = "structuredCodec().decode per read (valueMode 'copy')";
const readResults = await measureInterleaved(readCandidates, {
  rounds: ROUNDS,
  sampleMs: SAMPLE_MS,
  seed: SEED,
});
const readReference = readResults.find((candidate) => candidate.name === REFERENCE_READ);

console.log('\n(b) What one read costs, by how the cache protects its stored value');
// Handing out the shared value is a pointer return (about a nanosecond, the loop's own cost), so
// its ratio is shown as a bound rather than a noisy four-digit number.
report.table(
  '(b) What one read costs, by how the cache protects its stored value',
  readResults.map((candidate) => {
    const { ratio } = candidate.ratioTo(readReference);
    return {
      'per read': candidate.name,
      'reads/s': formatRate(candidate.opsPerSecond),
      'ns/read': formatNs(candidate.opsPerSecond),
      "vs 'copy' decode": ratio > 1_000 ? '> 1000x' : formatRatio(ratio),
      'caller may mutate': candidate.name.startsWith('shared') ? 'no (TypeError)' : 'yes, own copy',
    };
  }),
);
console.log(
  'End to end through engine.get (lookup included), see bench/local-hit: ' +
    "valueMode 'frozen' vs 'copy' on the same keys.",
);

// The price of sharing is paid once per entry: its first read decodes and deep-freezes (Dates get
// throwing setters, which costs more than freezing plain objects). Measured through the public
// API: `put` then the first `get` of that value, in a 'frozen' and in a 'copy' keyspace. The put
// costs the same in both, so the difference is what the deep freeze adds to a first read.
const engine = new DistCacheEngine({
  keySpaces: [defineKeySpace({ name: 'frozen' }), defineKeySpace({ name: 'copy', valueMode: 'copy' })],
});
await engine.start();
const FIRST_READ_KEYS = 2_000;
const firstKeys = Array.from({ length: FIRST_READ_KEYS }, (_, i) => `product:${i}`);
const firstValues = firstKeys.map((_, i) => makeProduct(i));
let frozenCursor = 0;
let copyCursor = 0;
const FROZEN_FIRST = "put + first get, valueMode 'frozen' (decode + deep freeze)";
const COPY_FIRST = "put + first get, valueMode 'copy' (decode)";
const firstReadResults = await measureInterleaved(
  [
    {
      name: FROZEN_FIRST,
      run: async (n) => {
        for (let i = 0; i < n; i++) {
          const index = frozenCursor++ % FIRST_READ_KEYS;
          await engine.put('frozen', firstKeys[index], firstValues[index]);
          sink ^= (await engine.get('frozen', firstKeys[index])).stock;
        }
      },
    },
    {
      name: COPY_FIRST,
      run: async (n) => {
        for (let i = 0; i < n; i++) {
          const index = copyCursor++ % FIRST_READ_KEYS;
          await engine.put('copy', firstKeys[index], firstValues[index]);
          sink ^= (await engine.get('copy', firstKeys[index])).stock;
        }
      },
    },
  ],
  { rounds: ROUNDS, sampleMs: SAMPLE_MS, seed: SEED },
);
await engine.stop();
const [frozenFirst, copyFirst] = firstReadResults;
console.log('\nThe price of sharing: the first read of each entry decodes and deep-freezes it');
report.table(
  'The price of sharing: the first read of each entry decodes and deep-freezes it',
  firstReadResults.map((candidate) => ({
    'per put + first read': candidate.name,
    'ops/s': formatRate(candidate.opsPerSecond),
    'µs/op': (1e6 / candidate.opsPerSecond).toFixed(2),
    "vs 'copy'": formatRatio(candidate.ratioTo(copyFirst).ratio),
  })),
);
const freezeNs = 1e9 / frozenFirst.opsPerSecond - 1e9 / copyFirst.opsPerSecond;
const copyReadNs = 1e9 / readReference.opsPerSecond;
const sharedReadNs = 1e9 / readResults[0].opsPerSecond;
const verdict =
  `Deep freeze: +${(freezeNs / 1e3).toFixed(2)} µs once per entry; a 'copy' read decodes for ` +
  `${(copyReadNs / 1e3).toFixed(2)} µs every time. Sharing pays off from the ` +
  `${ordinal(1 + Math.ceil(freezeNs / (copyReadNs - sharedReadNs)))} read of an entry.`;
console.log(verdict);
report.note(verdict);
report.chart({
  id: 'round-trip',
  title: 'Encode + decode of one ~1 KB product, by codec',
  unit: 'µs/round trip',
  higherIsBetter: false,
  groups: [
    {
      label: '',
      bars: codecs.map((codec) => ({
        label: codec.name,
        value: 1e6 / result(`${codec.name} round trip`).opsPerSecond,
      })),
    },
  ],
});
report.chart({
  id: 'read-cost',
  title: 'What one read costs, by how the cache protects its stored value',
  unit: 'ns/read',
  higherIsBetter: false,
  scale: 'log',
  groups: [
    {
      label: '',
      bars: readResults.map((candidate) => ({
        label: candidate.name.replace(" (valueMode 'frozen', after the first read)", " ('frozen')"),
        value: 1e9 / candidate.opsPerSecond,
      })),
    },
  ],
});
await report.write();

function ordinal(n) {
  const suffix = n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : 'th';
  return `${n}${n % 10 === 3 && n % 100 !== 13 ? 'rd' : suffix}`;
}

if (sink === 0.5) console.log(sink); // keeps results observable so no loop is optimised away
