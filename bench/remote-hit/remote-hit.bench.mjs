// Remote hit: `engine.get` of a key another node owns and holds, with hot copies off
// (`hotTtl: 0`), so every get is one round trip over the peer protocol: the path a non-owner takes
// for every read that its hot cache cannot answer. Two processes: an owner (owner.mjs) and a client
// (client.mjs), one per core of this 2-core machine; 5,000 keys of ~1 KB products that the owner
// owns, put before timing; the client reads them in a uniform random order.
//
// Reference, measured in the same run from the same client process: ioredis `GET` + `JSON.parse`
// of the same products stored as JSON in the local Redis, with ioredis's default (no
// auto-pipelining) and with `enableAutoPipelining: true`. One more Redis row hands out what
// distcache hands out: the product stored in distcache's default encoding, read with `getBuffer`,
// decoded by distcache's codec (Dates come back as Dates) and deeply frozen (lib/value-contract.mjs);
// its ratio column separates what distcache's value contract costs from what its engine costs.
// distcache runs over plain TCP and over mutual TLS (a throwaway CA and certificate made with the
// openssl CLI at start), with the default codec (V8 structured serialisation, values handed out
// deeply frozen); one more row reads the same products stored as JSON bytes (`rawCodec()`) and
// parses them like the Redis rows do, which separates the cost of the peer protocol from the cost
// of decoding.
//
// Each round runs every candidate at 1, 16 and 128 requests in flight (N async workers, each
// awaiting one get at a time): 0.5 s warm-up, then 3 s counted. Candidates run in a fresh random
// order per level and round; the tables give medians over rounds, and ratios are medians of the
// per-round ratios (noise that slows one round down cancels out of them). Rates are wall-clock:
// the server side (owner or redis-server) works in parallel on the other core. CPU time per get
// of the client and of the server process (from /proc) is printed as well: it moves far less with
// the neighbours of this shared VM than the rates do, and says which side is the limit; so are the
// write system calls per get of each (/proc/<pid>/io), since on this VM a write that wakes the
// other process costs 7-20 µs (measured with perf: docs/benchmarks.md, "Issue 18, ninth
// session").
//
// Goals (issue 18's acceptance): plain TCP >= 1.5x ioredis ops/s at 128 in flight (its moonshot
// 2x); mutual TLS >= 1x at 128; plain TCP p50 latency at 1 in flight no worse than ioredis's.
//
// Run:     npm run build -w distcache-core && node bench/remote-hit/remote-hit.bench.mjs   # ~3 min
// Options: --rounds=3 --duration-ms=3000 --warmup-ms=500 --keys=5000 --seed=42
//          --concurrency=1,16,128 --candidates=tcp,tcp-raw,tls,redis,redis-contract,redis-ap
//          --batch-keys=N   the client's clusterOptions.maxBatchKeys (default: the engine's)
//          --redis=127.0.0.1:6379
//          --profile[=dir]  run owner and client under `node --cpu-prof`, profiles into dir
//          --check          exit with status 1 when a goal is missed (the default always exits 0)
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from 'distcache-core/testing';
import { median } from '../lib/measure.mjs';
import { deleteKeysByPrefix } from '../lib/redis.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatRate, formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const here = dirname(fileURLToPath(import.meta.url));
const list = (name, fallback) => (typeof flags[name] === 'string' ? flags[name].split(',') : fallback);
const [redisHost, redisPort] = (typeof flags.redis === 'string' ? flags.redis : '127.0.0.1:6379').split(':');
const CHECK = flags.check === true;
const PROFILE_DIR =
  flags.profile === undefined
    ? undefined
    : resolve(flags.profile === true ? 'remote-hit-profiles' : flags.profile);

const NAMES = {
  tcp: 'distcache engine.get, plain TCP',
  'tcp-raw': 'distcache engine.get, plain TCP, rawCodec + JSON.parse',
  tls: 'distcache engine.get, mutual TLS',
  redis: 'ioredis GET + JSON.parse',
  'redis-contract': 'ioredis GET + distcache decode + deep freeze',
  'redis-ap': 'ioredis GET + JSON.parse, auto-pipelining',
};
const config = {
  keys: numberFlag(flags, 'keys', 5000),
  rounds: numberFlag(flags, 'rounds', 3),
  durationMs: numberFlag(flags, 'duration-ms', 3000),
  warmupMs: numberFlag(flags, 'warmup-ms', 500),
  seed: numberFlag(flags, 'seed', 42),
  // clusterOptions.maxBatchKeys of the client (undefined: the engine's default).
  batchKeys: flags['batch-keys'] === undefined ? undefined : numberFlag(flags, 'batch-keys', 256),
  concurrency: list('concurrency', ['1', '16', '128']).map(Number),
  candidates: list('candidates', ['tcp', 'tcp-raw', 'tls', 'redis', 'redis-contract', 'redis-ap']),
  redis: { host: redisHost, port: Number(redisPort), prefix: `distcache-bench:remote-hit:${process.pid}:` },
};
for (const id of config.candidates) if (!(id in NAMES)) throw new Error(`unknown candidate "${id}"`);
if (config.concurrency.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('bad --concurrency');

// --- resources this run opens, released in `cleanup` whatever happens ---------------------------

const children = new Set();
const tempDir = mkdtempSync(join(tmpdir(), 'distcache-remote-hit-'));

async function cleanup() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  rmSync(tempDir, { recursive: true, force: true });
  // The client deletes its keys; this catches what a crashed client left behind.
  await deleteKeysByPrefix(config.redis, config.redis.prefix);
}

// Ctrl-C or a kill: still stop the children and delete this run's keys and files.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

/** A throwaway CA and one node certificate (SAN IP:127.0.0.1, server and client use), EC P-256. */
function makeTlsMaterial() {
  const openssl = (command) => execFileSync('openssl', command.split(' '), { cwd: tempDir, stdio: 'pipe' });
  const ecKey = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  openssl(
    `req -x509 ${ecKey} -keyout ca.key -out ca.pem -days 2 -subj /CN=distcache-bench-ca ` +
      '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl(`req ${ecKey} -keyout node.key -out node.csr -subj /CN=distcache-bench-node`);
  writeFileSync(
    join(tempDir, 'node.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' +
      'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n',
  );
  openssl(
    'x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days 2 -extfile node.ext',
  );
  return { ca: join(tempDir, 'ca.pem'), cert: join(tempDir, 'node.pem'), key: join(tempDir, 'node.key') };
}

function start(script, childConfig) {
  const execArgv = PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`];
  const child = fork(join(here, script), [JSON.stringify(childConfig)], { execArgv, stdio: 'inherit' });
  children.add(child);
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  const next = (type) =>
    new Promise((resolveMessage, reject) => {
      const onMessage = (message) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolveMessage(message);
      };
      const onExit = (code, signal) =>
        reject(new Error(`${script} exited (${signal ?? code}) before "${type}"`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  return { child, next, exited };
}

// --- run ---------------------------------------------------------------------------------------------

let missed = 0;
try {
  console.log(`remote-hit: ${machineLine()}`);
  const results = createResults('remote-hit');
  const tls = makeTlsMaterial();
  const clusters = [];
  for (const kind of ['tcp', 'tls']) {
    const [ownerPort, clientPort] = await freePorts(2);
    clusters.push({ kind, ownerPort, clientPort });
  }
  const childConfig = { ...config, tls, clusters };

  const owner = start('owner.mjs', childConfig);
  await owner.next('ready');
  const client = start('client.mjs', { ...childConfig, ownerPid: owner.child.pid });
  const total = config.rounds * config.concurrency.length * config.candidates.length;
  let done = 0;
  client.child.on('message', (message) => {
    if (message.type === 'progress') process.stderr.write(`\r  measured ${++done}/${total}`);
  });
  const result = await client.next('result');
  process.stderr.write('\n');
  owner.child.send({ type: 'stats' });
  const ownerStats = await owner.next('stats');
  owner.child.send({ type: 'stop' });
  await Promise.all([owner.exited, client.exited]);

  console.log(
    `${result.keys.toLocaleString('en')} keys owned by the owner process, ~1 KB products ` +
      `(${result.valueBytes.structured} B structured, ${result.valueBytes.json} B JSON), uniform random order ` +
      `(seed ${config.seed}); hotTtl 0; ${config.rounds} rounds x ${config.warmupMs} ms warm-up + ` +
      `${config.durationMs} ms per candidate and level, interleaved; medians over rounds; wall-clock ops/s\n`,
  );

  // --- tables ---------------------------------------------------------------------------------------
  const wrong = result.samples.filter((sample) => sample.wrong > 0);
  if (wrong.length > 0) throw new Error(`wrong answers: ${JSON.stringify(wrong)}`);
  const cell = (id, concurrency) =>
    result.samples.filter((sample) => sample.candidate === id && sample.concurrency === concurrency);
  const ratio = (id, reference, concurrency, field = 'opsPerSecond', invert = false) => {
    const mine = cell(id, concurrency);
    const theirs = cell(reference, concurrency);
    if (mine.length === 0 || theirs.length === 0) return undefined;
    return median(
      mine.map((sample) => {
        const other = theirs.find((candidate) => candidate.round === sample.round);
        return invert ? other[field] / sample[field] : sample[field] / other[field];
      }),
    );
  };
  const show = (value) => (value === undefined ? 'n/a' : formatRatio(value));
  const micros = (values) => {
    const known = values.filter((value) => value !== undefined && value !== null);
    return known.length === 0 ? 'n/a' : median(known).toFixed(1);
  };
  const perGet = (samples, field) => {
    const known = samples.map((sample) => sample[field]).filter((value) => Number.isFinite(value));
    return known.length === 0 ? 'n/a' : median(known).toFixed(3);
  };
  const rows = [];
  for (const concurrency of config.concurrency) {
    for (const id of config.candidates) {
      const samples = cell(id, concurrency);
      rows.push({
        'in flight': String(concurrency),
        candidate: NAMES[id],
        'ops/s': formatRate(median(samples.map((sample) => sample.opsPerSecond))),
        'p50 µs': median(samples.map((sample) => sample.p50Us)).toFixed(0),
        'p99 µs': median(samples.map((sample) => sample.p99Us)).toFixed(0),
        'client CPU µs/get': micros(samples.map((sample) => sample.clientCpuUs)),
        'server CPU µs/get': micros(samples.map((sample) => sample.serverCpuUs)),
        'writes/get, client / server': `${perGet(samples, 'clientWritesPerGet')} / ${perGet(samples, 'serverWritesPerGet')}`,
        'vs ioredis': show(ratio(id, 'redis', concurrency)),
        'vs ioredis + distcache decode': show(ratio(id, 'redis-contract', concurrency)),
        'vs ioredis auto-pipelined': show(ratio(id, 'redis-ap', concurrency)),
      });
    }
  }
  results.table('Remote hit: engine.get of a key another node holds (hotTtl 0) vs ioredis GET', rows, {
    align: { 'in flight': 'right', candidate: 'left' },
  });

  const goals = [
    {
      goal: 'plain TCP >= 1.5x ioredis ops/s at 128 in flight (issue 18; moonshot 2x)',
      measured: ratio('tcp', 'redis', 128),
      target: 1.5,
    },
    {
      goal: 'mutual TLS >= 1x ioredis ops/s at 128 in flight',
      measured: ratio('tls', 'redis', 128),
      target: 1,
    },
    {
      goal: 'plain TCP p50 at 1 in flight <= ioredis p50 (ioredis p50 / ours)',
      measured: ratio('tcp', 'redis', 1, 'p50Us', true),
      target: 1,
    },
  ];
  console.log('');
  results.table(
    'Goals',
    goals.map(({ goal, measured, target }) => ({
      goal,
      measured: show(measured),
      result: measured === undefined ? 'n/a' : measured >= target ? 'PASS' : 'MISS',
    })),
  );
  missed = goals.filter(({ measured, target }) => measured !== undefined && measured < target).length;
  const evaluated = goals.filter(({ measured }) => measured !== undefined).length;
  console.log(
    '\nFor comparison (not a goal): plain TCP vs ioredis auto-pipelined at 128 in flight: ' +
      `${show(ratio('tcp', 'redis-ap', 128))}; mutual TLS: ${show(ratio('tls', 'redis-ap', 128))}.`,
  );
  const sameDecode = config.concurrency.map((n) => `${show(ratio('tcp', 'redis-contract', n))} at ${n}`);
  console.log(
    'Against ioredis handing out what distcache hands out (distcache decode + deep freeze; not a goal): ' +
      `plain TCP ${sameDecode.join(', ')} in flight; ` +
      `p50 at 1 in flight ${show(ratio('tcp', 'redis-contract', 1, 'p50Us', true))}.`,
  );

  // Proof that every timed get went to the owner: no hot hits, no data-source call anywhere.
  const describe = (stats) =>
    stats.map(
      ({ kind, kv }) =>
        `${kind}: peerLoads ${kv.peerLoads}, hotHits ${kv.hotHits}, deduped ${kv.dedupedLoads}`,
    );
  console.log(
    `Client: ${describe(result.clientStats).join('; ')}; data-source calls ${result.clientSourceCalls}. ` +
      `Owner: data-source calls ${ownerStats.sourceCalls}, requests served ` +
      `${ownerStats.engines.map(({ kind, served }) => `${kind} ${served}`).join(', ')}.`,
  );
  if (PROFILE_DIR !== undefined) console.log(`CPU profiles (owner and client) in ${PROFILE_DIR}`);

  const SHORT = {
    tcp: 'distcache TCP',
    'tcp-raw': 'distcache TCP, rawCodec + JSON.parse',
    tls: 'distcache mutual TLS',
    redis: 'ioredis GET + JSON.parse',
    'redis-contract': 'ioredis GET + distcache decode + freeze',
    'redis-ap': 'ioredis GET, auto-pipelining',
  };
  const byLevel = (field) =>
    config.concurrency.map((concurrency) => ({
      label: `${concurrency} in flight`,
      bars: config.candidates.map((id) => ({
        label: SHORT[id],
        value: median(cell(id, concurrency).map((sample) => sample[field] ?? 0)),
      })),
    }));
  results.chart({
    id: 'throughput',
    title: 'Remote hit: gets per second of a ~1 KB value another node holds, vs ioredis GET',
    unit: 'ops/s',
    higherIsBetter: true,
    groups: byLevel('opsPerSecond'),
  });
  results.chart({
    id: 'client-cpu',
    title: 'Remote hit: client CPU per get',
    unit: 'µs/get',
    higherIsBetter: false,
    groups: byLevel('clientCpuUs'),
  });
  const verdict =
    missed > 0
      ? `${missed} goal(s) missed`
      : evaluated < goals.length
        ? `${evaluated} goal(s) evaluated, all met`
        : 'all goals met';
  console.log(`\n${verdict}${CHECK ? ' (--check)' : ''}`);
  results.note(verdict);
  await results.write();
} finally {
  await cleanup();
}
if (CHECK && missed > 0) process.exitCode = 1;
