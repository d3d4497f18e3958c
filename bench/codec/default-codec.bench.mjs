// The default codec's forms, measured with their garbage collection (issue 18): V8's format
// (node:v8 serialize, and the detaching deserializer structuredCodec() reads it with), the JSON form
// that structuredCodec() wrote for plain data until 2026-12-04 and still reads (src/codec/json-form.ts;
// its bytes are made here), and the shaped form it writes now (src/codec/shaped-form.ts).
//
// Why a bench of its own: V8's deserializer keeps every object it decoded reachable until its
// wrapper is collected, and a scavenge (young-generation GC) never collects that wrapper (Node sets
// a property on it, so its weak handle counts as strong there). Every value it decoded survives the
// next scavenge. The cost is in the GC, not in the decode call, so the interleaved harness of the
// other codec benches (short batches, a minor GC before each) hides it. Here each sample is a long
// run of decodes (or encodes) with no forced GC, timed in CPU time (the GC's helper threads
// included); v8.GCProfiler gives the scavenges, their time and what each left alive.
//
// Values: the ~1 KB bench product (strings, numbers, two Dates, arrays, nested objects) and a small
// record. Reference of the ratios: V8's format.
//
// Run:     npm run build -w distcache-core && node bench/codec/default-codec.bench.mjs
// Options: --rounds=7 --sample-ms=300 --seed=7
import { GCProfiler, serialize } from 'node:v8';
import { structuredCodec } from 'distcache-core';
import { median, seededRandom, shuffled } from '../lib/measure.mjs';
import { makeProduct } from '../lib/product.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const ROUNDS = numberFlag(flags, 'rounds', 7);
const SAMPLE_MS = numberFlag(flags, 'sample-ms', 300);
const SEED = numberFlag(flags, 'seed', 7);

const codec = structuredCodec();
const COUNT = 512;
const values = [
  { name: '~1 KB bench product', make: (i) => makeProduct(i) },
  {
    name: 'small record',
    make: (i) => ({
      id: `u-${i}`,
      name: `user ${i}`,
      active: i % 2 === 0,
      visits: i,
      score: i / 7,
      plan: 'pro',
    }),
  },
];

/** The JSON form as earlier versions wrote it: marker, the JSON text of the Date paths, the value's. */
function jsonFormBytes(value) {
  const dates = [];
  const walk = (node, path) => {
    if (node instanceof Date) dates.push(path);
    else if (typeof node === 'object' && node !== null)
      for (const [key, child] of Object.entries(node))
        walk(child, [...path, Array.isArray(node) ? Number(key) : key]);
  };
  walk(value, []);
  const text =
    dates.length === 0 ? JSON.stringify(value) : `${JSON.stringify(dates)}\n${JSON.stringify(value)}`;
  return Buffer.concat([Buffer.from([dates.length === 0 ? 0x01 : 0x02]), Buffer.from(text)]);
}

const newSpaceUsed = (stats) =>
  stats.heapSpaceStatistics.find((space) => space.spaceName === 'new_space')?.spaceUsedSize ?? 0;

/**
 * CPU ms per op of `run` called in a loop for about SAMPLE_MS of CPU time, with the scavenges V8
 * reported meanwhile (v8.GCProfiler): how many, their share of the CPU time, and the bytes of the
 * young generation still alive after each (what the scavenge had to copy).
 */
function sample(run) {
  const profiler = new GCProfiler();
  profiler.start();
  const started = process.cpuUsage();
  let ops = 0;
  let cpuMs = 0;
  while (cpuMs < SAMPLE_MS) {
    for (let i = 0; i < 256; i++) run(ops++ % COUNT);
    const { user, system } = process.cpuUsage(started);
    cpuMs = (user + system) / 1e3;
  }
  const scavenges = profiler.stop().statistics.filter((gc) => gc.gcType === 'Scavenge');
  const costMs = scavenges.reduce((sum, gc) => sum + gc.cost, 0) / 1e3;
  const survived = scavenges.map((gc) => newSpaceUsed(gc.afterGC));
  return {
    usPerOp: (cpuMs * 1e3) / ops,
    scavengesPer10k: (scavenges.length * 1e4) / ops,
    gcShare: costMs / cpuMs,
    survivedKiB: survived.length === 0 ? 0 : median(survived) / 1024,
  };
}

console.log(machineLine('default-codec'));
const report = createResults('default-codec');
const random = seededRandom(SEED);
const rows = [];
for (const { name, make } of values) {
  const items = Array.from({ length: COUNT }, (_, i) => make(i));
  const v8Bytes = items.map((item) => serialize(item));
  const defaultBytes = items.map((item) => codec.encode(item));
  const jsonBytes = items.map((item) => jsonFormBytes(item));
  const form = { 0xff: 'V8', 0x03: 'shaped' }[defaultBytes[0][0]] ?? 'JSON';
  const candidates = [
    { name: 'decode, V8 format', bytes: v8Bytes, run: (i) => codec.decode(v8Bytes[i]) },
    {
      name: 'decode, JSON form (until 2026-12-04)',
      bytes: jsonBytes,
      run: (i) => codec.decode(jsonBytes[i]),
    },
    {
      name: `decode, default (${form} form)`,
      bytes: defaultBytes,
      run: (i) => codec.decode(defaultBytes[i]),
    },
    { name: 'encode, V8 format', bytes: v8Bytes, run: (i) => serialize(items[i]) },
    {
      name: 'encode, JSON.stringify + Buffer (less than the JSON form did)',
      bytes: jsonBytes,
      run: (i) => Buffer.from(JSON.stringify(items[i])),
    },
    { name: `encode, default (${form} form)`, bytes: defaultBytes, run: (i) => codec.encode(items[i]) },
  ];
  for (const candidate of candidates) sample(candidate.run); // warm-up
  const samples = new Map(candidates.map((candidate) => [candidate, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const candidate of shuffled(candidates, random)) samples.get(candidate).push(sample(candidate.run));
  }
  const figure = (candidate, field) => median(samples.get(candidate).map((s) => s[field]));
  const ratio = (candidate, reference) =>
    median(samples.get(candidate).map((s, round) => samples.get(reference)[round].usPerOp / s.usPerOp));
  for (const [index, candidate] of candidates.entries()) {
    const reference = candidates[index < 3 ? 0 : 3];
    rows.push({
      value: name,
      operation: candidate.name,
      bytes: String(candidate.bytes[0].length),
      'µs/op (CPU, GC included)': figure(candidate, 'usPerOp').toFixed(2),
      'scavenges per 10k ops': figure(candidate, 'scavengesPer10k').toFixed(1),
      'scavenge share of CPU': `${(100 * figure(candidate, 'gcShare')).toFixed(1)}%`,
      'KiB alive after a scavenge': figure(candidate, 'survivedKiB').toFixed(0),
      'speed vs V8 format': formatRatio(ratio(candidate, reference)),
    });
  }
}
console.log(
  `\n${ROUNDS} rounds, samples of ${SAMPLE_MS} ms CPU each, interleaved; medians over rounds; ratios are medians of per-round ratios\n`,
);
report.table('Default codec: V8 format, JSON form and shaped form, garbage collection included', rows, {
  align: { value: 'left', operation: 'left' },
});
report.note(`rounds ${ROUNDS}, sample ${SAMPLE_MS} ms CPU, no forced GC`);
await report.write();
