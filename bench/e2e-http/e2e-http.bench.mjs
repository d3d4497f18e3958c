// End-to-end HTTP: the same Nest endpoint (GET /products/:id over a simulated database that answers
// in 2 ms) on three instances, under four caches, driven by autocannon with a Zipf workload over
// 100k products:
// - no cache: every request queries the database;
// - @nestjs/cache-manager + cache-manager 7 on a Keyv Redis store (@keyv/redis) shared by the
//   three instances, `wrap` (the reference of the ratios);
// - bentocache: memory L1 per instance + Redis L2 + Redis bus, `getOrSet`;
// - distcache: nestjs-distcache, the three instances one cluster (static discovery, loopback),
//   `@ReadThrough` on the catalogue's `find`.
// The app (app/src) is one Nest app whose `Catalogue` provider is the only part that differs.
//
// Method (bench/README.md, "End-to-end HTTP"): each round starts three fresh instances of every
// variant (empty caches, the run's Redis keys deleted), warms each variant up, then runs `turns`
// turns; a turn visits every variant once, in a fresh random order: an uncounted lead-in, then a
// counted phase at saturation (`connections`) and one at light load (`light-connections`).
// Variants alternate every few seconds, so a neighbour's burst on this shared machine hits all of
// them. Each phase reads every instance's counters (CPU, event loop, data-source calls) over IPC
// before and after. Medians over rounds; ratios are medians of per-round ratios against
// cache-manager.
//
// Run:     npm run build && node bench/e2e-http/e2e-http.bench.mjs     # ~5 min with the defaults
// Options: --rounds=3 --turns=3 --warmup=4 --lead-in=1 --phase=2.5 --connections=48 --light-connections=6
//          --products=100000 --zipf-s=1.1 --source-ms=2 --ttl=600 --memory-mb=64 --seed=42
//          --redis=127.0.0.1:6379
//          --variants=distcache,cache-manager (some variants only; ratios and goals need both;
//            local-map adds an unbounded in-process Map per instance: the upper bound of any cache;
//            distcache-standalone one standalone engine per instance: the engine without the cluster)
//          --cpu-prof=distcache (.cpuprofile of these variants' instances, in e2e-http/profiles/)
//          --no-results  do not write bench/results/e2e-http.json (a trial or profiling run)
//          --check  exit with status 1 when a goal is missed (the default always exits 0)
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';
import { freePorts } from 'distcache-core/testing';
import { seededRandom, shuffled } from '../lib/measure.mjs';
import { deleteKeysByPrefix } from '../lib/redis.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';
import { ensureAppBuilt, startInstances } from './instances.mjs';
import { Latencies, runLoad } from './load.mjs';
import { PhaseTotals, summarizeRound } from './phase.mjs';
import { buildReport, EXTRA_VARIANTS, VARIANT_LABELS, VARIANTS } from './report.mjs';
import { KeyStream, ZipfSampler } from './zipf.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const options = {
  rounds: numberFlag(flags, 'rounds', 3),
  turns: numberFlag(flags, 'turns', 3),
  warmup: numberFlag(flags, 'warmup', 4),
  leadIn: numberFlag(flags, 'lead-in', 1),
  phase: numberFlag(flags, 'phase', 2.5),
  connections: numberFlag(flags, 'connections', 48),
  lightConnections: numberFlag(flags, 'light-connections', 6),
  products: numberFlag(flags, 'products', 100_000),
  zipfS: numberFlag(flags, 'zipf-s', 1.1),
  sourceMs: numberFlag(flags, 'source-ms', 2),
  ttl: numberFlag(flags, 'ttl', 600),
  memoryMb: numberFlag(flags, 'memory-mb', 64),
  seed: numberFlag(flags, 'seed', 42),
};
const variants = typeof flags.variants === 'string' ? flags.variants.split(',') : VARIANTS;
const KNOWN = [...VARIANTS, ...EXTRA_VARIANTS];
for (const variant of variants)
  if (!KNOWN.includes(variant)) throw new Error(`unknown variant "${variant}" (${KNOWN.join(', ')})`);
const profiled = new Set(typeof flags['cpu-prof'] === 'string' ? flags['cpu-prof'].split(',') : []);
const CHECK = flags.check === true;
const [redisHost, redisPort] = (typeof flags.redis === 'string' ? flags.redis : '127.0.0.1:6379').split(':');
const REDIS = { host: redisHost, port: Number(redisPort) };
const PREFIX = `distcache-bench:e2e-http:${process.pid}`;
const INSTANCES = 3;
const PHASES = { saturated: options.connections, light: options.lightConnections };
const here = dirname(fileURLToPath(import.meta.url));

const children = new Set();
let redis;
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const child of children) child.kill('SIGKILL');
  redis?.disconnect();
  await deleteKeysByPrefix(REDIS, PREFIX);
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the instances and deleting ${PREFIX}*`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** redis-server's own CPU seconds (user + system) so far, from INFO. */
async function redisCpuSeconds() {
  const info = await redis.info('cpu');
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Three fresh instances of `variant`, with the round's key stream and empty phase totals. */
async function startVariant(variant, round, sampler) {
  const ports = await freePorts(2 * INSTANCES);
  const httpPorts = ports.slice(0, INSTANCES);
  const peerPorts = ports.slice(INSTANCES);
  const configs = httpPorts.map((httpPort, index) => ({
    variant,
    index,
    httpPort,
    peerPorts,
    cluster: `e2e-http-${process.pid}-${round}`,
    sourceMs: options.sourceMs,
    products: options.products,
    ttlMs: options.ttl * 1000,
    memoryBytes: options.memoryMb * 2 ** 20,
    redis: REDIS,
    prefix: PREFIX,
  }));
  const instances = await startInstances(configs, {
    registry: children,
    cpuProfDir: profiled.has(variant) ? join(here, 'profiles', variant) : undefined,
  });
  return {
    variant,
    instances,
    urls: httpPorts.map((port) => `http://127.0.0.1:${port}`),
    // The same key sequence for every variant of a round; a different one in each round.
    keys: new KeyStream(sampler, seededRandom(options.seed + 7919 * (round + 1))),
    phases: { saturated: new PhaseTotals(), light: new PhaseTotals() },
  };
}

/** One counted phase of one variant: load, and the counters of its instances around it. */
async function measure(cluster, phase) {
  const latencies = cluster.phases[phase].latencies;
  const before = await cluster.instances.stats();
  const redisBefore = await redisCpuSeconds();
  const loadgenBefore = process.cpuUsage();
  const load = await runLoad({
    urls: cluster.urls,
    connections: PHASES[phase],
    seconds: options.phase,
    nextId: cluster.keys.next,
    latencies,
  });
  const loadgen = process.cpuUsage(loadgenBefore);
  const redisCpu = (await redisCpuSeconds()) - redisBefore;
  const after = await cluster.instances.stats();
  cluster.phases[phase].add(load, before, after, redisCpu, (loadgen.user + loadgen.system) / 1e6);
}

async function runRound(round, random, sampler) {
  await deleteKeysByPrefix(REDIS, PREFIX);
  const clusters = [];
  try {
    for (const variant of shuffled(variants, random))
      clusters.push(await startVariant(variant, round, sampler));
    for (const cluster of shuffled(clusters, random)) {
      await runLoad({
        urls: cluster.urls,
        connections: options.connections,
        seconds: options.warmup,
        nextId: cluster.keys.next,
        latencies: new Latencies(),
      });
    }
    for (let turn = 0; turn < options.turns; turn++) {
      for (const cluster of shuffled(clusters, random)) {
        // An uncounted lead-in first: the variant sat idle while the others ran, and distcache's hot
        // copies (10 s by default) expired meanwhile, which continuous traffic would have renewed.
        await runLoad({
          urls: cluster.urls,
          connections: options.connections,
          seconds: options.leadIn,
          nextId: cluster.keys.next,
        });
        for (const phase of Object.keys(PHASES)) await measure(cluster, phase);
      }
    }
    // Requests the load generator abandoned at the end of the last phase finish first.
    await sleep(250);
    return await Promise.all(
      clusters.map(async (cluster) => summarizeRound(round, cluster, await cluster.instances.stats())),
    );
  } finally {
    await Promise.all(clusters.map((cluster) => cluster.instances.stop()));
  }
}

const started = performance.now();
let missed = 0;
try {
  const results = createResults('e2e-http');
  console.log(`e2e-http: ${machineLine()}`);
  if (ensureAppBuilt()) console.log('compiled bench/e2e-http/app');
  redis = new Redis({ ...REDIS, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect().catch((error) => {
    throw new Error(`Redis at ${REDIS.host}:${REDIS.port} is needed (${error.message}); see --redis`);
  });
  const sampler = new ZipfSampler(options.products, options.zipfS);
  console.log(
    `${INSTANCES} instances per variant; Zipf s=${options.zipfS} over ${options.products.toLocaleString('en')} products ` +
      `(the top 1% get ${(100 * sampler.shareOfTop(options.products / 100)).toFixed(0)}% of requests); source ` +
      `${options.sourceMs} ms; ${options.rounds} rounds of: ${options.warmup} s warm-up, then ${options.turns} turns ` +
      `of ${options.leadIn} s lead-in, ${options.phase} s counted at ${options.connections} connections and ` +
      `${options.phase} s at ${options.lightConnections} per variant\n`,
  );

  const random = seededRandom(options.seed);
  const summaries = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const s of await runRound(round, random, sampler)) {
      summaries.push(s);
      console.log(
        `round ${round + 1}/${options.rounds} ${VARIANT_LABELS[s.variant].padEnd(30)} ` +
          `${Math.round(s.saturated.rps).toLocaleString('en').padStart(6)} req/s (p50 ${s.saturated.p50.toFixed(2)} ms); ` +
          `light load p50 ${s.light.p50.toFixed(2)} ms p99 ${s.light.p99.toFixed(2)} ms; ` +
          `source calls ${s.sourceCalls.toLocaleString('en')}; failed ${s.saturated.failed + s.light.failed}`,
      );
    }
  }

  const report = buildReport(summaries, variants, options);
  for (const table of report.tables) {
    console.log(`\n${table.title}\n`);
    results.table(
      table.title,
      table.rows.map((row) => Object.fromEntries(table.columns.map((column, i) => [column, row[i]]))),
    );
  }
  for (const note of report.notes) {
    console.log(`\n${note}`);
    results.note(note);
  }
  for (const chart of report.charts) results.chart(chart);
  missed = report.missed;
  const seconds = (performance.now() - started) / 1e3;
  const verdict = report.goalsChecked
    ? missed === 0
      ? 'all goals met'
      : `${missed} goal(s) missed`
    : 'goals not checked (they need distcache and cache-manager)';
  console.log(`\n${verdict}${CHECK ? ' (--check)' : ''}; run time ${seconds.toFixed(0)} s`);

  await results.write({
    options: { ...options, variants, instances: INSTANCES, runSeconds: Math.round(seconds) },
  });
} finally {
  await cleanup();
}
if (CHECK && missed > 0) process.exitCode = 1;
