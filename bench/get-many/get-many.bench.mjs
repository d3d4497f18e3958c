// getMany: `engine.getMany` of 100 keys that two other nodes own and hold, with hot copies off
// (`hotTtl: 0`), so each batch is one GET_MANY request per owner over the peer protocol; the keys
// of a batch are spread over both owners. Three processes: two owners (bench/lib/node-process.mjs)
// and a client (client.mjs), all on this 2-core machine; 10,000 keys of ~1 KB products that the
// owners own, put before timing, and 10,000 keys the client owns itself (the local row).
//
// Reference, measured in the same run from the same client process: ioredis `MGET` of the same
// 100 keys, stored as JSON in the local Redis, + `JSON.parse` of each value. Also measured: the
// same getMany over JSON bytes (`rawCodec()`) + `JSON.parse` of each (the same decode work as the
// Redis row), 100 parallel `engine.get` calls instead of one getMany (what batching saves), and
// getMany of 100 keys this node holds (no network), and MGET of the same products stored in
// distcache's default encoding (`mgetBuffer`), decoded by distcache's codec and deeply frozen
// (lib/value-contract.mjs): Redis handing out what distcache hands out (Dates as Dates, read-only
// values), whose ratio column separates the value contract's cost from the engine's.
//
// Each round runs every candidate at 1 and 16 batches in flight (N async workers, each awaiting
// one batch at a time): 0.5 s warm-up, then 2 s counted. Candidates run in a fresh random order per
// level and round; tables give medians over rounds, ratios are medians of per-round ratios. Rates
// are wall-clock; CPU time per batch of the client and of the server side (both owners, or
// redis-server) comes from /proc.
//
// Run:     npm run build -w distcache-core && node bench/get-many/get-many.bench.mjs   # ~1.5 min
// Options: --rounds=3 --duration-ms=2000 --warmup-ms=500 --keys=10000 --batch=100 --seed=42
//          --concurrency=1,16 --candidates=getmany,getmany-raw,get-x100,getmany-local,redis-mget,
//                       redis-mget-contract
//          --redis=127.0.0.1:6379
//          --profile[=dir]  run the owners and the client under `node --cpu-prof`, profiles into dir
// Env:     BENCH_EXEC_ARGV="--trace-gc"  node flags for the owners and the client
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from 'distcache-core/testing';
import { medianOf, pairedRatio } from '../lib/closed-loop.mjs';
import { NODE_PROCESS } from '../lib/node-process.mjs';
import { childGroup, cleanupOnSignal } from '../lib/processes.mjs';
import { deleteKeysByPrefix } from '../lib/redis.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatRate, formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const here = dirname(fileURLToPath(import.meta.url));
const list = (name, fallback) => (typeof flags[name] === 'string' ? flags[name].split(',') : fallback);
const [redisHost, redisPort] = (typeof flags.redis === 'string' ? flags.redis : '127.0.0.1:6379').split(':');

const NAMES = {
  getmany: 'distcache getMany, 2 remote owners',
  'getmany-raw': 'distcache getMany, 2 remote owners, rawCodec + JSON.parse',
  'get-x100': 'distcache 100 x engine.get in parallel, 2 remote owners',
  'getmany-local': 'distcache getMany, keys this node holds (local)',
  'redis-mget': 'ioredis MGET + JSON.parse',
  'redis-mget-contract': 'ioredis MGET + distcache decode + deep freeze',
};
const SHORT = {
  getmany: 'distcache getMany (remote)',
  'getmany-raw': 'distcache getMany, raw + JSON.parse',
  'get-x100': 'distcache 100 x get (remote)',
  'getmany-local': 'distcache getMany (local)',
  'redis-mget': 'ioredis MGET + JSON.parse',
  'redis-mget-contract': 'ioredis MGET + distcache decode + deep freeze',
};
const OWNERS = 2;
const PROFILE_DIR =
  flags.profile === undefined
    ? undefined
    : resolve(flags.profile === true ? 'get-many-profiles' : flags.profile);
// BENCH_EXEC_ARGV: node flags for the owners and the client (`--trace-gc` found the owners' full
// collections under external memory pressure, bench/README.md "Issue 18, sixth session").
const extraArgv = process.env.BENCH_EXEC_ARGV?.split(' ').filter(Boolean) ?? [];
const execArgv =
  PROFILE_DIR === undefined ? extraArgv : [...extraArgv, '--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`];
const config = {
  keys: numberFlag(flags, 'keys', 10_000),
  batch: numberFlag(flags, 'batch', 100),
  rounds: numberFlag(flags, 'rounds', 3),
  durationMs: numberFlag(flags, 'duration-ms', 2000),
  warmupMs: numberFlag(flags, 'warmup-ms', 500),
  seed: numberFlag(flags, 'seed', 42),
  concurrency: list('concurrency', ['1', '16']).map(Number),
  candidates: list('candidates', [
    'getmany',
    'getmany-raw',
    'get-x100',
    'getmany-local',
    'redis-mget',
    'redis-mget-contract',
  ]),
  cluster: 'get-many',
  redis: { host: redisHost, port: Number(redisPort), prefix: `distcache-bench:get-many:${process.pid}:` },
};
for (const id of config.candidates) if (!(id in NAMES)) throw new Error(`unknown candidate "${id}"`);
if (config.concurrency.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('bad --concurrency');
if (config.keys % config.batch !== 0) throw new Error('--keys must be a multiple of --batch');

const group = childGroup();
async function cleanup() {
  group.killAll();
  // The client deletes its keys; this catches what a crashed client left behind.
  await deleteKeysByPrefix(config.redis, config.redis.prefix);
}
cleanupOnSignal(cleanup);

try {
  console.log(`get-many: ${machineLine()}`);
  const results = createResults('get-many');
  const ports = await freePorts(OWNERS + 1);
  const [clientPort, ...ownerPorts] = ports;
  const owners = ownerPorts.map((port, index) =>
    group.start(
      NODE_PROCESS,
      {
        name: `owner-${index}`,
        engines: [{ id: 'main', cluster: config.cluster, port, peers: ports, hotTtl: 0 }],
      },
      { label: `owner ${index}`, execArgv },
    ),
  );
  // All three start together: each waits until it sees the other two before going on.
  const client = group.start(
    join(here, 'client.mjs'),
    { ...config, ports, clientPort, ownerPids: owners.map((owner) => owner.child.pid) },
    { label: 'client', execArgv },
  );
  const total = config.rounds * config.concurrency.length * config.candidates.length;
  await Promise.all(owners.map((owner) => owner.next('ready')));
  let done = 0;
  client.child.on('message', (message) => {
    if (message.type === 'progress') process.stderr.write(`\r  measured ${++done}/${total}`);
  });
  const result = await client.next('result');
  process.stderr.write('\n');
  const ownerStats = await Promise.all(
    owners.map((owner) => {
      const reply = owner.next('stats');
      owner.send({ type: 'stats' });
      return reply;
    }),
  );
  await Promise.all(
    owners.map((owner) => {
      owner.send({ type: 'stop' });
      return owner.exited;
    }),
  );
  await client.exited;

  const header =
    `${config.batch} keys per batch out of ${config.keys.toLocaleString('en')} keys owned by ${OWNERS} other ` +
    `processes (${result.perOwner.join(' / ')} keys each) or by the client (local row); ~1 KB products ` +
    `(${result.valueBytes.structured} B structured, ${result.valueBytes.json} B JSON); hotTtl 0; ` +
    `${config.rounds} rounds x ${config.warmupMs} ms warm-up + ${config.durationMs} ms per candidate and ` +
    'level, interleaved; medians over rounds; wall-clock rates';
  console.log(`${header}\n`);
  results.note(header);

  const wrong = result.samples.filter((sample) => sample.wrong > 0);
  if (wrong.length > 0) throw new Error(`wrong answers: ${JSON.stringify(wrong)}`);
  const cell = (id, concurrency) =>
    result.samples.filter((sample) => sample.candidate === id && sample.concurrency === concurrency);
  const ratio = (id, concurrency, reference = 'redis-mget') =>
    pairedRatio(cell(id, concurrency), cell(reference, concurrency));
  const show = (value) => (value === undefined ? 'n/a' : formatRatio(value));
  const micros = (value) => (value === undefined ? 'n/a' : value.toFixed(0));

  const rows = [];
  for (const concurrency of config.concurrency) {
    for (const id of config.candidates) {
      const samples = cell(id, concurrency);
      const batches = medianOf(samples, 'opsPerSecond');
      rows.push({
        'in flight': String(concurrency),
        candidate: NAMES[id],
        'batches/s': formatRate(batches),
        'keys/s': formatRate(batches * config.batch),
        'p50 µs': micros(medianOf(samples, 'p50Us')),
        'p99 µs': micros(medianOf(samples, 'p99Us')),
        'client CPU µs/batch': micros(medianOf(samples, 'clientCpuUs')),
        'server CPU µs/batch': micros(medianOf(samples, 'serverCpuUs')),
        'vs ioredis MGET': show(ratio(id, concurrency)),
        'vs MGET + distcache decode': show(ratio(id, concurrency, 'redis-mget-contract')),
      });
    }
  }
  results.table(`getMany of ${config.batch} keys vs Redis MGET`, rows, {
    align: { 'in flight': 'right', candidate: 'left' },
  });

  const byLevel = (field, scale = 1) =>
    config.concurrency.map((concurrency) => ({
      label: `${concurrency} batch${concurrency === 1 ? '' : 'es'} in flight`,
      bars: config.candidates.map((id) => ({
        label: SHORT[id],
        value: (medianOf(cell(id, concurrency), field) ?? 0) * scale,
      })),
    }));
  results.chart({
    id: 'throughput',
    title: `getMany of ${config.batch} keys vs ioredis MGET: keys per second`,
    unit: 'keys/s',
    higherIsBetter: true,
    groups: byLevel('opsPerSecond', config.batch),
  });
  results.chart({
    id: 'client-cpu',
    title: `Client CPU per batch of ${config.batch} keys`,
    unit: 'µs/batch',
    higherIsBetter: false,
    groups: byLevel('clientCpuUs'),
  });

  const sourceCalls =
    result.clientSourceCalls + ownerStats.reduce((sum, stats) => sum + stats.sourceCalls, 0);
  const served = ownerStats.map((stats) => stats.engines[0].peerRequestsServed);
  const c = result.clientCounters;
  const proof =
    `Client (timed rounds): gets ${c.gets}, peerLoads ${c.peerLoads}, hotHits ${c.hotHits}, ` +
    `deduped ${c.dedupedLoads}; owners served ${served.join(' / ')} requests; data-source calls ` +
    `anywhere: ${sourceCalls}.`;
  console.log(`\n${proof}`);
  results.note(proof);
  if (PROFILE_DIR !== undefined) console.log(`CPU profiles (owners and client) in ${PROFILE_DIR}`);
  if (sourceCalls > 0 || c.hotHits > 0) throw new Error('a timed read was not a hit on its owner');
  await results.write();
} finally {
  await cleanup();
}
