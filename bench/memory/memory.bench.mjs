// Memory per cached entry: what holding 100,000 ~1 KB products (bench/lib/product.mjs) costs in
// distcache and in what a user would pick instead. Each candidate runs in its own process
// (fill.mjs, under --expose-gc): full collections, a snapshot, the fill, full collections, a
// second snapshot. Bytes per entry = (V8 heap used + external memory) delta / entries; RSS delta
// is a second column (it also counts pages the allocator keeps after freeing, so it is coarser).
// Every candidate keeps the same keys (`product:<i>`) and values with a 1 h TTL.
//
// Candidates: distcache standalone engine after put (encoded bytes only), after put + one read of
// each entry (valueMode 'frozen' then holds the decoded, frozen value instead of the bytes) and in
// valueMode 'copy' (bytes only, decoded per read); lru-cache 11 holding the objects and holding
// JSON strings; cache-manager 7 (default Keyv memory store); bentocache 1.x memory L1 only; Redis
// (server-side `INFO memory` used_memory delta, keys under a run-unique prefix, deleted after).
// Floors for reference: the values alone, as an array of JSON strings and as an array of objects.
//
// Fill beyond capacity (fill-frozen, fill-copy): a keyspace of --fill-max-bytes (64 MiB) read
// through its data source for --fill-entries (150,000) distinct products, twice; heap + external
// and RSS growth against maxBytes, and what the keyspace counted. Goals (issue 15): default mode
// per entry <= 1.5x Redis; fill heap + external <= 1.15x and RSS growth <= 2x maxBytes.
//
// Run:     npm run build -w distcache-core && node bench/memory/memory.bench.mjs   # ~5 min loaded
// Options: --entries=100000 --fill-entries=150000 --fill-max-bytes=67108864
//          --candidates=payload-json,...,redis,fill-frozen,fill-copy --redis=127.0.0.1:6379
import { serialize } from 'node:v8';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../lib/measure.mjs';
import { childGroup, cleanupOnSignal } from '../lib/processes.mjs';
import { makeProduct } from '../lib/product.mjs';
import { deleteKeysByPrefix } from '../lib/redis.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const here = dirname(fileURLToPath(import.meta.url));
const [redisHost, redisPort] = (typeof flags.redis === 'string' ? flags.redis : '127.0.0.1:6379').split(':');
const ENTRIES = numberFlag(flags, 'entries', 100_000);
// The fill beyond capacity (issue 15's acceptance): 150,000 products through a 64 MiB keyspace.
const FILL_ENTRIES = numberFlag(flags, 'fill-entries', 150_000);
const FILL_MAX_BYTES = numberFlag(flags, 'fill-max-bytes', 64 * 1024 * 1024);
const FILL_IDS = ['fill-frozen', 'fill-copy'];
const REDIS = { host: redisHost, port: Number(redisPort), prefix: `distcache-bench:memory:${process.pid}:` };

const NAMES = {
  'payload-json': 'floor: the JSON strings alone, in an array',
  'payload-objects': 'floor: the product objects alone, in an array',
  'distcache-put': "distcache, after put (bytes only; 'frozen' before any read)",
  'distcache-read': "distcache, after put + 1 read each (valueMode 'frozen', the default)",
  'distcache-copy': "distcache, after put + 1 read each (valueMode 'copy')",
  'lru-objects': 'lru-cache 11 holding the objects',
  'lru-json': 'lru-cache 11 holding JSON strings',
  'cache-manager': 'cache-manager 7 (Keyv memory store)',
  bentocache: 'bentocache 1.x, memory L1 only',
  redis: 'Redis (server used_memory; RSS column: used_memory_rss)',
  'fill-frozen': "distcache read-through fill beyond maxBytes (valueMode 'frozen', the default)",
  'fill-copy': "distcache read-through fill beyond maxBytes (valueMode 'copy')",
};
const SHORT = {
  'payload-json': 'JSON strings alone',
  'payload-objects': 'objects alone',
  'distcache-put': 'distcache, put only',
  'distcache-read': "distcache, read ('frozen')",
  'distcache-copy': "distcache, read ('copy')",
  'lru-objects': 'lru-cache, objects',
  'lru-json': 'lru-cache, JSON strings',
  'cache-manager': 'cache-manager 7',
  bentocache: 'bentocache L1',
  redis: 'Redis 7',
  'fill-frozen': "fill, 'frozen'",
  'fill-copy': "fill, 'copy'",
};
const candidates = typeof flags.candidates === 'string' ? flags.candidates.split(',') : Object.keys(NAMES);
for (const id of candidates) if (!(id in NAMES)) throw new Error(`unknown candidate "${id}"`);

const group = childGroup();
cleanupOnSignal(async () => {
  group.killAll();
  await deleteKeysByPrefix(REDIS, REDIS.prefix);
});

console.log(`memory: ${machineLine()}`);
const results = createResults('memory');

// The payload: the same products every candidate stores, as JSON (what Redis and the JSON rows
// keep) and as V8 serialisation (distcache's default codec).
const sample = Array.from({ length: 1000 }, (_, k) => makeProduct(Math.floor((k * ENTRIES) / 1000)));
const jsonBytes = median(sample.map((product) => Buffer.byteLength(JSON.stringify(product))));
const v8Bytes = median(sample.map((product) => serialize(product).length));
const keyBytes = `product:${ENTRIES >> 1}`.length;

const measured = [];
try {
  for (const id of candidates) {
    process.stderr.write(`  ${id}...`);
    const entries = FILL_IDS.includes(id) ? FILL_ENTRIES : ENTRIES;
    const child = group.start(
      join(here, 'fill.mjs'),
      { candidate: id, entries, redis: REDIS, maxBytes: FILL_MAX_BYTES },
      { execArgv: ['--expose-gc'], label: id },
    );
    const message = await child.next('result');
    await child.exited;
    process.stderr.write(` ${(message.heapBytes / entries).toFixed(0)} B/entry\n`);
    measured.push({ id, ...message });
  }
} finally {
  group.killAll();
  await deleteKeysByPrefix(REDIS, REDIS.prefix);
}

const header =
  `${ENTRIES.toLocaleString('en')} entries, keys \`product:<i>\` (${keyBytes} chars), values ~1 KB products: ` +
  `median ${jsonBytes} B as JSON, ${v8Bytes} B as V8 serialisation; 1 h TTL everywhere; one process per ` +
  'candidate, full GCs before each snapshot';
console.log(`\n${header}\n`);
results.note(header);

const fills = measured.filter(({ id }) => FILL_IDS.includes(id));
measured.splice(0, measured.length, ...measured.filter(({ id }) => !FILL_IDS.includes(id)));
const perEntry = (bytes) => bytes / ENTRIES;
const reference = measured.find(({ id }) => id === 'lru-objects');
const redisReference = measured.find(({ id }) => id === 'redis');
const rows = measured.map((m) => {
  const bytes = perEntry(m.heapBytes);
  return {
    candidate: NAMES[m.id],
    'B/entry': bytes.toFixed(0),
    'RSS B/entry': perEntry(m.rssBytes).toFixed(0),
    'x JSON size': formatRatio(bytes / jsonBytes),
    'over JSON B': (bytes - jsonBytes).toFixed(0),
    'vs lru-cache objects': reference === undefined ? 'n/a' : formatRatio(m.heapBytes / reference.heapBytes),
    'vs Redis': redisReference === undefined ? 'n/a' : formatRatio(m.heapBytes / redisReference.heapBytes),
    'of which V8 heap / external':
      m.id === 'redis'
        ? 'n/a'
        : `${perEntry(m.v8HeapBytes).toFixed(0)} / ${perEntry(m.externalBytes).toFixed(0)}`,
    'fill ms': m.fillMs.toFixed(0),
  };
});
results.table(`Memory per cached entry (${ENTRIES.toLocaleString('en')} entries of ~1 KB)`, rows);

const distcacheRows = measured.filter((m) => m.extra?.budgetBytesPerEntry !== undefined);
if (distcacheRows.length > 0) {
  const budget =
    'distcache counts per entry against maxBytes (its estimate of what the entry holds): ' +
    distcacheRows
      .map(
        (m) =>
          `${SHORT[m.id]} ${m.extra.budgetBytesPerEntry.toFixed(0)} B counted vs ${perEntry(m.heapBytes).toFixed(0)} B ` +
          `measured (${formatRatio(m.heapBytes / ENTRIES / m.extra.budgetBytesPerEntry)})`,
      )
      .join('; ') +
    '.';
  console.log(`\n${budget}`);
  results.note(budget);
}
const defaultRow = measured.find(({ id }) => id === 'distcache-read');
if (defaultRow !== undefined && redisReference !== undefined) {
  const ratio = defaultRow.heapBytes / redisReference.heapBytes;
  const goal = `Goal: distcache default mode (after reads) <= 1.5x Redis per entry: ${ratio <= 1.5 ? 'PASS' : 'FAIL'} (${formatRatio(ratio)}).`;
  console.log(goal);
  results.note(goal);
}

if (fills.length > 0) {
  const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
  const fillRows = fills.map((m) => ({
    run: NAMES[m.id],
    'counted MiB': mib(m.extra.countedBytes),
    'heap+external MiB': mib(m.heapBytes),
    'of which V8 heap / external MiB': `${mib(m.v8HeapBytes)} / ${mib(m.externalBytes)}`,
    'x maxBytes': formatRatio(m.heapBytes / m.extra.maxBytes),
    'RSS growth MiB': mib(m.rssBytes),
    'RSS x maxBytes': formatRatio(m.rssBytes / m.extra.maxBytes),
    'entries held': m.extra.items.toLocaleString('en'),
    evictions: m.extra.evictions.toLocaleString('en'),
    'fill ms': m.fillMs.toFixed(0),
  }));
  results.table(
    `Fill beyond capacity: maxBytes ${mib(FILL_MAX_BYTES)} MiB, ${FILL_ENTRIES.toLocaleString('en')} distinct products read twice (read-through), after full GCs`,
    fillRows,
  );
  const pass = fills.every(
    (m) => m.heapBytes <= 1.15 * m.extra.maxBytes && m.rssBytes <= 2 * m.extra.maxBytes,
  );
  const goal = `Goal: heap+external <= 1.15x maxBytes and RSS growth <= 2x maxBytes in both modes: ${pass ? 'PASS' : 'FAIL'}.`;
  console.log(goal);
  results.note(goal);
}
const redisRow = measured.find(({ id }) => id === 'redis');
if (redisRow !== undefined)
  results.note(`Redis ${redisRow.extra?.redisVersion ?? ''}, keys set with PX (TTL).`);

const bars = (field) => measured.map((m) => ({ label: SHORT[m.id], value: Math.max(0, perEntry(m[field])) }));
results.chart({
  id: 'bytes-per-entry',
  title: `Memory per cached ~1 KB entry (${ENTRIES.toLocaleString('en')} entries)`,
  unit: 'B/entry',
  higherIsBetter: false,
  groups: [{ label: 'V8 heap + external (Redis: used_memory)', bars: bars('heapBytes') }],
});
results.chart({
  id: 'rss-per-entry',
  title: `RSS growth per cached ~1 KB entry (${ENTRIES.toLocaleString('en')} entries)`,
  unit: 'B/entry',
  higherIsBetter: false,
  groups: [{ label: 'RSS (Redis: used_memory_rss)', bars: bars('rssBytes') }],
});
await results.write({ entries: ENTRIES, payload: { jsonBytes, v8Bytes, keyChars: keyBytes } });
