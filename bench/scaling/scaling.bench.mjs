// Scaling model: what a distcache cluster does with more nodes, in two parts.
//
// Measured: one fixed workload on a 1-, 2- and 3-node cluster, each node a child process
// (bench/lib/node-process.mjs) on loopback. As in a deployment of an application with an embedded
// cache, every node serves its own share of the traffic: this process (the driver) tells every node
// of a cluster at once to run N gets in flight (default 64) of random keys out of 10,000 ~1 KB
// products, spread over the ring, and sums what the nodes completed. Each node runs two engines
// in two clusters of the same members: hot copies off (`hotTtl: 0`, every read of a key owned
// elsewhere is one request to its owner) and on (the default 10 s hot copies). All clusters start
// at once and stay up; rounds run every (size, hot copies) combination in a fresh random order.
// Before each window, every node reads every key once, so owners hold every key, hot copies are
// fresh, and no data source is called while timing. THE CAVEAT: all processes share this machine's 2 cores, so beyond
// one node the cluster gains no CPU; the numbers show what distribution costs per get (the peer
// hop, serving peers), not the capacity that separate machines would add.
//
// Computed: balance and key movement of the ring (DEFAULT_VIRTUAL_NODES) for 3 to 100 nodes:
// keys per node, and keys that move when one node joins or leaves, against the ideal.
//
// Run:     npm run build -w distcache-core && node bench/scaling/scaling.bench.mjs   # ~1.5 min
// Options: --sizes=1,2,3 --modes=hot-off,hot-on --rounds=3 --duration-ms=2000 --warmup-ms=500
//          --keys=10000 --concurrency=64 --seed=42
//          --ring-nodes=3,10,25,50,100 --ring-keys=200000 --parts=measured,computed
//          --profile[=dir]  run the nodes under `node --cpu-prof`, profiles into dir
import { resolve } from 'node:path';
import { DEFAULT_VIRTUAL_NODES } from 'distcache-core';
import { freePorts } from 'distcache-core/testing';
import { median, seededRandom } from '../lib/measure.mjs';
import { shuffled } from '../lib/closed-loop.mjs';
import { NODE_PROCESS } from '../lib/node-process.mjs';
import { childGroup, cleanupOnSignal } from '../lib/processes.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatRate, formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';
import { ringKeys, ringStats } from '../lib/ring.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const list = (name, fallback) => (typeof flags[name] === 'string' ? flags[name].split(',') : fallback);
const config = {
  sizes: list('sizes', ['1', '2', '3']).map(Number),
  modes: list('modes', ['hot-off', 'hot-on']),
  rounds: numberFlag(flags, 'rounds', 3),
  durationMs: numberFlag(flags, 'duration-ms', 2000),
  warmupMs: numberFlag(flags, 'warmup-ms', 500),
  keys: numberFlag(flags, 'keys', 10_000),
  concurrency: numberFlag(flags, 'concurrency', 64),
  seed: numberFlag(flags, 'seed', 42),
  ringNodes: list('ring-nodes', ['3', '10', '25', '50', '100']).map(Number),
  ringKeys: numberFlag(flags, 'ring-keys', 200_000),
  parts: list('parts', ['measured', 'computed']),
};
const PROFILE_DIR =
  flags.profile === undefined
    ? undefined
    : resolve(flags.profile === true ? 'scaling-profiles' : flags.profile);
const execArgv = PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`];
const MODE_NAMES = { 'hot-off': 'distcache, hot copies off', 'hot-on': 'distcache, hot copies on' };
for (const mode of config.modes) if (!(mode in MODE_NAMES)) throw new Error(`unknown mode "${mode}"`);
if (config.sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('bad --sizes');
const CAVEAT =
  'Caveat: every node and the driver share the same 2 cores. Beyond one node the cluster gains no CPU, ' +
  'so these rates show what distribution costs per get (the peer hop, serving peers), not the capacity ' +
  'that nodes on separate machines would add.';

const group = childGroup();
cleanupOnSignal(() => group.killAll());
const random = seededRandom(config.seed);

console.log(`scaling: ${machineLine()}`);
const results = createResults('scaling');

/** Sends `message` to every node and resolves to their answers of `type`, in node order. */
const ask = (nodes, message, type) =>
  Promise.all(
    nodes.map((node) => {
      const reply = node.next(type);
      node.send(message);
      return reply;
    }),
  );

// --- measured: 1, 2, 3 nodes ------------------------------------------------------------------------

if (config.parts.includes('measured')) {
  const clusters = [];
  try {
    for (const size of config.sizes) {
      const ports = await freePorts(size * 2);
      const off = ports.slice(0, size);
      const on = ports.slice(size);
      const nodes = Array.from({ length: size }, (_, index) =>
        group.start(
          NODE_PROCESS,
          {
            name: `n${size}-${index}`,
            engines: [
              { id: 'hot-off', cluster: `scaling-${size}-off`, port: off[index], peers: off, hotTtl: 0 },
              { id: 'hot-on', cluster: `scaling-${size}-on`, port: on[index], peers: on },
            ],
          },
          { label: `node ${index} of ${size}`, execArgv },
        ),
      );
      clusters.push({ size, nodes });
    }
    await Promise.all(clusters.flatMap(({ nodes }) => nodes.map((node) => node.next('ready'))));

    const load = (nodes, mode, durationMs, warmupMs, seedOffset) =>
      Promise.all(
        nodes.map((node, index) => {
          const reply = node.next('loaded');
          node.send({
            type: 'load',
            engine: mode,
            concurrency: config.concurrency,
            warmupMs,
            durationMs,
            keys: config.keys,
            seed: config.seed * 1000 + index * 17 + seedOffset,
          });
          return reply;
        }),
      );

    // Every node reads every key once (owners load each key once; with hot copies on, the others
    // take hot copies), so no timed window reaches a data source. Repeated before every window:
    // between its turns a cluster sits idle for longer than the 10 s hot copies live, and a
    // window should see the steady state of continuous traffic, not a refill.
    const warm = (nodes, mode) => ask(nodes, { type: 'warm', engine: mode, keys: config.keys }, 'warmed');
    for (const { nodes } of clusters) {
      for (const mode of config.modes) {
        await warm(nodes, mode);
        await load(nodes, mode, 500, 200, 0);
      }
    }
    const sourceCallsBefore = await Promise.all(
      clusters.map(({ nodes }) => ask(nodes, { type: 'stats' }, 'stats')),
    );

    const combos = config.sizes.flatMap((size) => config.modes.map((mode) => ({ size, mode })));
    const samples = [];
    let done = 0;
    for (let round = 0; round < config.rounds; round++) {
      for (const { size, mode } of shuffled(combos, random)) {
        const { nodes } = clusters.find((cluster) => cluster.size === size);
        await warm(nodes, mode);
        const answers = await load(nodes, mode, config.durationMs, config.warmupMs, round + 1);
        const wrong = answers.reduce((sum, { result }) => sum + result.wrong, 0);
        if (wrong > 0) throw new Error(`${size} nodes, ${mode}: ${wrong} gets returned a wrong product`);
        const completed = answers.reduce((sum, { result }) => sum + result.completed, 0);
        const cpuUs = answers.reduce((sum, { result }) => sum + result.clientCpuUs * result.completed, 0);
        const sum = (field) => answers.reduce((total, { counters }) => total + counters[field], 0);
        samples.push({
          round,
          size,
          mode,
          opsPerSecond: answers.reduce((total, { result }) => total + result.opsPerSecond, 0),
          cpuUsPerGet: cpuUs / completed,
          p50Us: median(answers.map(({ result }) => result.p50Us)),
          p99Us: Math.max(...answers.map(({ result }) => result.p99Us)),
          gets: sum('gets'),
          localHits: sum('hits') - sum('hotHits'),
          hotHits: sum('hotHits'),
          peerLoads: sum('peerLoads'),
          peerErrors: sum('peerErrors'),
          fallbackLoads: sum('fallbackLoads'),
          loads: sum('loads'),
        });
        process.stderr.write(`\r  measured ${++done}/${config.rounds * combos.length}`);
      }
    }
    process.stderr.write('\n');
    const sourceCallsAfter = await Promise.all(
      clusters.map(({ nodes }) => ask(nodes, { type: 'stats' }, 'stats')),
    );
    /** Per "size/mode": how much an engine stat grew during the timed rounds. */
    const growth = (field) => {
      const flat = (answers) =>
        answers.flatMap((perNode, c) =>
          perNode.flatMap((stats) =>
            stats.engines.map((engine) => ({
              key: `${clusters[c].size}/${engine.id}`,
              value: engine[field],
            })),
          ),
        );
      const before = flat(sourceCallsBefore);
      const grown = new Map();
      flat(sourceCallsAfter).forEach(({ key, value }, i) =>
        grown.set(key, (grown.get(key) ?? 0) + value - before[i].value),
      );
      const total = [...grown.values()].reduce((sum, n) => sum + n, 0);
      const where = [...grown]
        .filter(([, n]) => n > 0)
        .map(([key, n]) => `${key.replace('/', ' nodes, ')}: ${n}`)
        .join('; ');
      return total === 0 ? '0' : `${total} (${where})`;
    };
    const header =
      `${config.keys.toLocaleString('en')} keys (~1 KB products) spread over the ring; every node runs ` +
      `${config.concurrency} gets in flight of random keys; ${config.rounds} rounds x ${config.warmupMs} ms ` +
      `warm-up + ${config.durationMs} ms per (nodes, hot copies), interleaved; medians over rounds; cluster ` +
      'rate = sum over nodes (wall clock); CPU µs/get = CPU of all node processes / gets';
    console.log(`\n${header}\n${CAVEAT}\n`);
    results.note(header);
    results.note(CAVEAT);

    const cell = (size, mode) => samples.filter((s) => s.size === size && s.mode === mode);
    const base = config.sizes[0];
    const rows = [];
    for (const size of config.sizes) {
      for (const mode of config.modes) {
        const mine = cell(size, mode);
        const ops = median(mine.map((s) => s.opsPerSecond));
        const share = (field) =>
          `${((100 * mine.reduce((t, s) => t + s[field], 0)) / mine.reduce((t, s) => t + s.gets, 0)).toFixed(0)}%`;
        const ratio = median(
          mine.map((s) => s.opsPerSecond / cell(base, mode).find((b) => b.round === s.round).opsPerSecond),
        );
        rows.push({
          nodes: String(size),
          'hot copies': mode === 'hot-on' ? 'on (10 s)' : 'off',
          'cluster gets/s': formatRate(ops),
          'per node gets/s': formatRate(ops / size),
          'CPU µs/get': median(mine.map((s) => s.cpuUsPerGet)).toFixed(2),
          'p50 µs': median(mine.map((s) => s.p50Us)).toFixed(0),
          'p99 µs (worst node)': median(mine.map((s) => s.p99Us)).toFixed(0),
          'owner hits': share('localHits'),
          'hot hits': share('hotHits'),
          'peer requests': share('peerLoads'),
          [`vs ${base} node${base === 1 ? '' : 's'}`]: formatRatio(ratio),
        });
      }
    }
    results.table('Measured throughput, 1 to 3 nodes on one 2-core machine', rows, {
      align: { nodes: 'right' },
    });
    const proof =
      `Data-source calls during the timed rounds: ${growth('sourceCalls')}. ` +
      `Membership events (a peer dropped or rejoined) during the timed rounds: ${growth('peerEvents')}.`;
    console.log(`\n${proof}`);
    results.note(proof);
    const trouble = samples.filter((s) => s.peerErrors + s.fallbackLoads + s.loads > 0);
    if (trouble.length > 0) {
      const detail = trouble
        .map(
          (s) =>
            `round ${s.round + 1}, ${s.size} nodes, ${s.mode}: ${s.loads} loads, ` +
            `${s.peerErrors} peer errors, ${s.fallbackLoads} fallback loads`,
        )
        .join('; ');
      console.log(`Timed windows with loads or peer errors: ${detail}.`);
      results.note(`Timed windows with loads or peer errors: ${detail}.`);
    }
    results.chart({
      id: 'throughput',
      title: 'Cluster throughput on one 2-core machine (all nodes share the cores)',
      unit: 'gets/s',
      higherIsBetter: true,
      groups: config.sizes.map((size) => ({
        label: `${size} node${size === 1 ? '' : 's'}`,
        bars: config.modes.map((mode) => ({
          label: MODE_NAMES[mode],
          value: median(cell(size, mode).map((s) => s.opsPerSecond)),
        })),
      })),
    });
    results.chart({
      id: 'cpu-per-get',
      title: 'CPU per get, all node processes together',
      unit: 'µs/get',
      higherIsBetter: false,
      groups: config.sizes.map((size) => ({
        label: `${size} node${size === 1 ? '' : 's'}`,
        bars: config.modes.map((mode) => ({
          label: MODE_NAMES[mode],
          value: median(cell(size, mode).map((s) => s.cpuUsPerGet)),
        })),
      })),
    });

    await Promise.all(
      clusters.flatMap(({ nodes }) =>
        nodes.map((node) => {
          node.send({ type: 'stop' });
          return node.exited;
        }),
      ),
    );
  } finally {
    group.killAll();
  }
}

// --- computed: ring balance and key movement, 3 to 100 nodes -------------------------------------

if (config.parts.includes('computed')) {
  const keys = ringKeys(config.ringKeys);
  const stats = config.ringNodes.map((nodes) =>
    ringStats(keys, nodes, DEFAULT_VIRTUAL_NODES, { joins: 3, leaves: 3, sets: 10 }),
  );
  console.log(
    `\nComputed: HashRing with DEFAULT_VIRTUAL_NODES = ${DEFAULT_VIRTUAL_NODES}, ` +
      `${config.ringKeys.toLocaleString('en')} keys; joins and leaves averaged over 3 each, worst of 10 member sets\n`,
  );
  const percent = (share) => `${(share * 100).toFixed(2)}%`;
  results.table(
    `Ring balance and key movement (${DEFAULT_VIRTUAL_NODES} virtual nodes, computed)`,
    stats.map((s) => ({
      nodes: String(s.nodes),
      'keys per node (mean)': Math.round(config.ringKeys / s.nodes).toLocaleString('en'),
      'busiest / mean': s.maxOverMean.toFixed(3),
      'least / mean': s.minOverMean.toFixed(3),
      'cv %': (s.cv * 100).toFixed(1),
      'busiest / mean, worst of 10 sets': s.setsWorst.toFixed(3),
      'moved on join': percent(s.joinMoved),
      'ideal 1/(n+1)': percent(s.joinIdeal),
      'join / ideal': (s.joinMoved / s.joinIdeal).toFixed(2),
      'moved on leave': percent(s.leaveMoved),
      'ideal 1/n': percent(s.leaveIdeal),
      'leave / ideal': (s.leaveMoved / s.leaveIdeal).toFixed(2),
    })),
    { align: { nodes: 'right' } },
  );
  const movedNote =
    'Every key that moved on a join went to the joining node, and every key that moved on a leave came ' +
    'from the leaving node (checked), so a membership change never shuffles keys between the other nodes.';
  console.log(`\n${movedNote}`);
  results.note(movedNote);
  results.chart({
    id: 'ring',
    title: `Ring balance and key movement, ${DEFAULT_VIRTUAL_NODES} virtual nodes (1.0 = ideal)`,
    unit: 'x ideal',
    higherIsBetter: false,
    groups: stats.map((s) => ({
      label: `${s.nodes} nodes`,
      bars: [
        { label: 'busiest node / mean', value: s.maxOverMean },
        { label: 'keys moved on join / ideal', value: s.joinMoved / s.joinIdeal },
        { label: 'keys moved on leave / ideal', value: s.leaveMoved / s.leaveIdeal },
      ],
    })),
  });
}

await results.write({ caveat: CAVEAT });
