// Tags: what `deleteByTags` costs on a node holding many entries, and what tags cost on the read
// path. One standalone engine holds --entries entries (default 1,000,000 small values): --tagged
// (10,000) carry the tag invalidated, half of the rest carry one of 49 other tags, half none.
//
// Measured, in 5 trials (the tag of keys 0..--tagged, then four tags of ~10,000 keys each): the
// time `deleteByTags` takes and the longest event-loop delay while it runs and 100 ms after, with 4
// readers of other keys running (perf_hooks monitorEventLoopDelay, 1 ms resolution), beside the
// same window without the call; reads of untagged and other-tagged keys (must all stay hits);
// every invalidated key missing after.
// The alternatives the design was chosen against, on the same 1 M keys in an lru-cache: a scan of
// every entry in one synchronous step, and an index tag -> keys (its memory, and the synchronous
// delete of 10,000 keys). Read cost: ns per `get` hit of an untagged entry, of a tagged entry, and
// of a tagged entry with --records tag invalidations remembered.
//
// Run:     npm run build -w distcache-core && node --expose-gc bench/tags/tags.bench.mjs
// Options: --entries=1000000 --tagged=10000 --records=1000 --rounds=30 --sample-ms=10
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DistCacheEngine, defineKeySpace } from 'distcache-core';
import { LRUCache } from 'lru-cache';
import { collectGarbage, measureInterleaved, median, seededRandom } from '../lib/measure.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatNs, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const ENTRIES = numberFlag(flags, 'entries', 1_000_000);
const TAGGED = numberFlag(flags, 'tagged', 10_000);
const RECORDS = numberFlag(flags, 'records', 1_000);
const ROUNDS = numberFlag(flags, 'rounds', 30);
const SAMPLE_MS = numberFlag(flags, 'sample-ms', 10);

console.log(
  `# Tags: deleteByTags on a node of ${ENTRIES.toLocaleString('en')} entries\n\n${machineLine()}\n`,
);
const report = createResults('tags');

// Key i: tag 'target' for i < TAGGED; then 't<i % 49>' for odd i, none for even i.
const keyOf = (i) => `item:${i}`;
const tagsOf = (i) => (i < TAGGED ? ['target'] : i % 2 === 1 ? [`t${i % 49}`] : undefined);
const valueOf = (i) => ({ id: i, name: `item ${i}` });

const engine = new DistCacheEngine({
  keySpaces: [defineKeySpace({ name: 'items', maxBytes: 2 * 1024 ** 3, ttl: '1h', maxTagRecords: 100_000 })],
});
await engine.start();
let started = performance.now();
for (let i = 0; i < ENTRIES; i++) {
  const tags = tagsOf(i);
  await engine.put('items', keyOf(i), valueOf(i), tags === undefined ? undefined : { tags });
}
const fillMs = performance.now() - started;
// Read once: values held decoded, as in a running service.
for (let i = 0; i < ENTRIES; i++) await engine.get('items', keyOf(i));
collectGarbage();
const before = engine.stats().keySpaces.items;
console.log(
  `filled in ${(fillMs / 1000).toFixed(1)} s: ${before.items.toLocaleString('en')} entries, ${(before.bytes / 1024 ** 2).toFixed(0)} MiB counted\n`,
);

// --- deleteByTags while readers run -------------------------------------------------------------

// Trials: 'target' (keys 0..TAGGED-1), then t1..t4 (about ENTRIES / 98 keys each). Each trial
// measures the same readers over the same window twice: without the call (GC and the machine's
// own noise), then with it.
const TRIALS = ['target', 't1', 't2', 't3', 't4'];
const countOf = (tag) => {
  let n = 0;
  for (let i = 0; i < ENTRIES; i++) if (tagsOf(i)?.includes(tag)) n += 1;
  return n;
};
const random = seededRandom(7);
// Keys no trial invalidates: untagged (even) ones and those of t5..t48.
const untouched = () => {
  for (;;) {
    const i = TAGGED + Math.floor(random() * (ENTRIES - TAGGED));
    const tags = tagsOf(i);
    if (tags === undefined || !TRIALS.includes(tags[0])) return i;
  }
};
let reading = true;
let reads = 0;
let readMisses = 0;
const reader = async () => {
  while (reading) {
    const value = await engine.get('items', keyOf(untouched()));
    reads += 1;
    if (value === undefined) readMisses += 1;
    if (reads % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const window = async (call) => {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  reading = true;
  histogram.enable();
  const readers = Array.from({ length: 4 }, reader);
  await sleep(50);
  const begin = performance.now();
  await call();
  const ms = performance.now() - begin;
  await sleep(100);
  reading = false;
  await Promise.all(readers);
  histogram.disable();
  return { ms, maxDelayMs: histogram.max / 1e6 };
};
const statsBefore = engine.stats().keySpaces.items;
const trials = [];
for (const tag of TRIALS) {
  const without = await window(async () => {});
  const withCall = await window(() => engine.deleteByTags('items', [tag]));
  trials.push({
    tag,
    entries: countOf(tag),
    ms: withCall.ms,
    delay: withCall.maxDelayMs,
    baseline: without.maxDelayMs,
  });
}
const statsAfter = engine.stats().keySpaces.items;
const loadsDuring = statsAfter.loads - statsBefore.loads;
let stillThere = 0;
let invalidated = 0;
for (let i = 0; i < ENTRIES; i++) {
  const tags = tagsOf(i);
  if (tags === undefined || !TRIALS.includes(tags[0])) continue;
  invalidated += 1;
  if ((await engine.get('items', keyOf(i))) !== undefined) stillThere += 1;
}
const deleteMs = trials[0].ms;

// --- the alternatives, on the same keys in a plain lru-cache --------------------------------------

const lru = new LRUCache({ max: ENTRIES });
for (let i = 0; i < ENTRIES; i++) lru.set(keyOf(i), { tags: tagsOf(i), value: valueOf(i) });
collectGarbage();
const timedSync = (run) => {
  const begin = performance.now();
  const result = run();
  return { ms: performance.now() - begin, result };
};
const scan = timedSync(() => {
  const doomed = [];
  for (const [key, entry] of lru.entries()) if (entry.tags?.includes('target')) doomed.push(key);
  for (const key of doomed) lru.delete(key);
  return doomed.length;
});
for (let i = 0; i < TAGGED; i++) lru.set(keyOf(i), { tags: tagsOf(i), value: valueOf(i) });
collectGarbage();
const heapBefore = process.memoryUsage().heapUsed;
const index = new Map();
for (let i = 0; i < ENTRIES; i++) {
  for (const tag of tagsOf(i) ?? []) {
    let keys = index.get(tag);
    if (keys === undefined) index.set(tag, (keys = new Set()));
    keys.add(keyOf(i));
  }
}
collectGarbage();
const indexBytes = process.memoryUsage().heapUsed - heapBefore;
const indexed = timedSync(() => {
  const keys = index.get('target');
  for (const key of keys) lru.delete(key);
  index.delete('target');
  return keys.size;
});
const indexedEntries = ENTRIES - Math.ceil((ENTRIES - TAGGED) / 2);

report.table(
  'deleteByTags of one tag, with 4 readers of other keys running (5 trials)',
  trials.map((trial) => ({
    tag: trial.tag,
    'entries removed': trial.entries.toLocaleString('en'),
    'time ms': trial.ms.toFixed(2),
    'longest event-loop delay ms': trial.delay.toFixed(1),
    'same window without the call ms': trial.baseline.toFixed(1),
  })),
);
console.log('');
report.table(
  'The alternatives, same 1 M keys in an lru-cache (each blocks the event loop for its whole time)',
  [
    {
      approach: 'distcache: tag versions checked on read',
      'time ms': median(trials.map((trial) => trial.ms)).toFixed(2),
      'memory per tagged entry': '56 B stamp + its tag list',
    },
    {
      approach: 'scan of every entry, one synchronous step',
      'time ms': scan.ms.toFixed(1),
      'memory per tagged entry': 'its tag list',
    },
    {
      approach: "index tag -> keys, synchronous delete of the tag's keys",
      'time ms': indexed.ms.toFixed(1),
      'memory per tagged entry': `${(indexBytes / indexedEntries).toFixed(0)} B of index + its tag list`,
    },
  ],
);
console.log('');
report.table('Reads of other keys during the trials, and of the invalidated keys after', [
  {
    reads: reads.toLocaleString('en'),
    'misses (must be 0)': readMisses,
    'data-source loads': loadsDuring,
    [`invalidated keys still served (of ${invalidated.toLocaleString('en')}, must be 0)`]: stillThere,
  },
]);

// --- read-path cost -------------------------------------------------------------------------------

await engine.deleteKeySpace('items');
engine.addKeySpace(defineKeySpace({ name: 'plain', maxBytes: 256 * 1024 ** 2, ttl: '1h' }));
engine.addKeySpace(defineKeySpace({ name: 'tagged', maxBytes: 256 * 1024 ** 2, ttl: '1h' }));
engine.addKeySpace(defineKeySpace({ name: 'records', maxBytes: 256 * 1024 ** 2, ttl: '1h' }));
const READ_KEYS = 10_000;
for (let i = 0; i < READ_KEYS; i++) {
  await engine.put('plain', keyOf(i), valueOf(i));
  await engine.put('tagged', keyOf(i), valueOf(i), { tags: [`t${i % 49}`, 'all'] });
  await engine.put('records', keyOf(i), valueOf(i), { tags: [`t${i % 49}`, 'all'] });
}
// Invalidations of tags no entry carries: they are remembered and checked on every read.
for (let i = 0; i < RECORDS; i++) await engine.deleteByTags('records', [`gone:${i}`]);
const order = Array.from({ length: 1 << 16 }, () => keyOf(Math.floor(random() * READ_KEYS)));
const candidate = (name, keySpace) => {
  let at = 0;
  return {
    name,
    run: async (n) => {
      for (let i = 0; i < n; i++) await engine.get(keySpace, order[at++ & 0xffff]);
    },
  };
};
for (const keySpace of ['plain', 'tagged', 'records'])
  for (let i = 0; i < READ_KEYS; i++) await engine.get(keySpace, keyOf(i));
const measured = await measureInterleaved(
  [
    candidate('untagged entry', 'plain'),
    candidate('entry with 2 tags', 'tagged'),
    candidate(`entry with 2 tags, ${RECORDS.toLocaleString('en')} invalidations remembered`, 'records'),
  ],
  { rounds: ROUNDS, sampleMs: SAMPLE_MS },
);
console.log('');
report.table(
  'get hit of a held entry',
  measured.map((m) => ({
    entry: m.name,
    'ns/get': formatNs(m.opsPerSecond),
    'vs untagged': `${m.ratioTo(measured[0]).ratio.toFixed(3)}x`,
  })),
);
report.note(`deleteByTags of ${TAGGED} entries among ${ENTRIES} took ${deleteMs.toFixed(2)} ms`);
await report.write();
await engine.stop();
