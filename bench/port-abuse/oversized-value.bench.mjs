// Oversized values: how fast `put` refuses a value over maxValueBytes (default 1 MiB) and how much
// memory the refusal costs, now that strings, Buffers, typed arrays and arrays of them are bounded
// before encoding. The reference, timed in the same run, is what the refusal cost when the value was
// encoded first: v8.serialize of the same value. Acceptance (issue 15): a 50 MB string is refused
// before serialisation in under 5 ms.
import { serialize } from 'node:v8';
import { DistCacheEngine, isDistCacheError, standaloneDiscovery } from 'distcache-core';
import { scenarioFlags, table } from './lib.mjs';

const flags = scenarioFlags(
  { mb: 50, repeat: 20 },
  `
Usage: node --expose-gc bench/port-abuse/oversized-value.bench.mjs [--mb=50] [--repeat=20]
Puts values of --mb MB into a standalone engine with default limits, --repeat times each, and reports
the time to E_VALUE_TOO_LARGE (median, max) and the heap + external growth, against v8.serialize of
the same value. Build first: npm run build -w distcache-core`,
);

const engine = new DistCacheEngine({
  discovery: standaloneDiscovery(),
  keySpaces: [{ name: 'kv', dataSource: async () => undefined }],
});
await engine.start();
const bytes = flags.mb * 1_000_000;
const values = {
  [`${flags.mb} MB string`]: 'x'.repeat(bytes),
  [`${flags.mb} MB Buffer`]: Buffer.alloc(bytes, 1),
  [`array of ${flags.mb} strings of 1 MB`]: Array.from({ length: flags.mb }, (_, i) =>
    String(i).padEnd(1_000_000, 'y'),
  ),
};
const gc = globalThis.gc ?? (() => undefined);
const memory = () => {
  const { heapUsed, external, arrayBuffers } = process.memoryUsage();
  return heapUsed + external + arrayBuffers;
};
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

// Warm the put path (first-call compilation is not what is measured) with a small oversized value.
for (let i = 0; i < 5; i++) await engine.put('kv', 'warm', 'w'.repeat(2_000_000)).catch(() => undefined);

const rows = [];
for (const [name, value] of Object.entries(values)) {
  const refuse = [];
  const encode = [];
  let growth = 0;
  let code = '';
  for (let i = 0; i < flags.repeat; i++) {
    gc();
    const before = memory();
    const started = performance.now();
    try {
      await engine.put('kv', `big-${i}`, value);
    } catch (error) {
      code = isDistCacheError(error) ? error.code : String(error);
    }
    refuse.push(performance.now() - started);
    growth = Math.max(growth, memory() - before);
    const encodeStarted = performance.now();
    serialize(value);
    encode.push(performance.now() - encodeStarted);
  }
  refuse.sort((a, b) => a - b);
  encode.sort((a, b) => a - b);
  rows.push({
    value: name,
    outcome: code,
    'refused in ms, median': quantile(refuse, 0.5).toFixed(3),
    'max ms': refuse.at(-1).toFixed(3),
    'heap+external growth MiB': (growth / (1 << 20)).toFixed(2),
    'v8.serialize ms, median (reference)': quantile(encode, 0.5).toFixed(1),
    'acceptance < 5 ms': refuse.at(-1) < 5 ? 'yes' : 'NO',
  });
}
await engine.stop();
console.log(
  `\noversized values, default maxValueBytes (1 MiB), ${flags.repeat} puts each, ${new Date().toISOString()}`,
);
table('Time to E_VALUE_TOO_LARGE', rows);
if (globalThis.gc === undefined)
  console.log('\n(run with node --expose-gc for the memory column to be exact)');
