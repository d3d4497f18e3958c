// Ring balance: how evenly a distcache HashRing spreads keys, how many keys move when a node
// joins, and what the ring costs (build time, ns per ownerOf), for several virtual-node counts.
// References measured in the same run: the ideal share of moved keys on a join, 1/(n+1), and for
// the hash itself node:crypto md5 (what a hand-rolled ring usually reaches for).
//
// Run: npm run build -w distcache-core && node bench/ring-balance/ring-balance.bench.mjs
// Options: --keys=1000000 --nodes=3,10,100 --vnodes=16,64,128,160,256,512 --joins=3 --sets=20
import { createHash, hash as cryptoHash } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { DEFAULT_HASHER, DEFAULT_VIRTUAL_NODES, hashRing } from 'distcache-core';
import { nsPerCall, ringKeys, ringNodeId, ringSink, ringStats } from '../lib/ring.mjs';
import { parseFlags } from '../lib/cli.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const args = parseFlags({ also: SCENARIO_FLAGS });
const list = (value, fallback) => (value ?? fallback).split(',').map(Number);
const KEY_COUNT = Number(args.keys ?? 1_000_000);
const NODE_COUNTS = list(args.nodes, '3,10,100');
const VNODE_COUNTS = list(args.vnodes, '16,64,128,160,256,512');
const JOINS = Number(args.joins ?? 3);
// One member set is one draw of the ring's randomness; the balance of SETS other sets (exact share
// of the hash space, no key sampling) shows the typical and the unlucky case.
const SETS = Number(args.sets ?? 20);

// Keys shaped like real cache keys: a keyspace prefix and an id, 12 to 20 characters.
const keys = ringKeys(KEY_COUNT);

let sink = 0;

/** Prints rows as a Markdown table (first column left-aligned), so a run pastes into bench/README.md. */
function printTable(rows) {
  const columns = Object.keys(rows[0]);
  const cells = rows.map((row) => columns.map((column) => String(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, 3, ...cells.map((row) => row[i].length)));
  const pad = (text, i) => (i === 0 ? text.padEnd(widths[i]) : text.padStart(widths[i]));
  const line = (values) => `| ${values.map(pad).join(' | ')} |`;
  console.log(line(columns));
  console.log(
    `| ${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w - 1)}` : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`,
  );
  for (const row of cells) console.log(line(row));
}

/** One row of the table: balance, movement on join and cost (bench/lib/ring.mjs measures). */
function measure(nodeCount, virtualNodes) {
  const stats = ringStats(keys, nodeCount, virtualNodes, { joins: JOINS, sets: SETS, timing: true });
  return {
    nodes: nodeCount,
    vnodes: virtualNodes,
    points: stats.points,
    'build ms': stats.buildMs.toFixed(2),
    'ns/ownerOf': stats.ownerNs.toFixed(0),
    'max/mean': stats.maxOverMean.toFixed(3),
    'min/mean': stats.minOverMean.toFixed(3),
    'cv %': (stats.cv * 100).toFixed(1),
    'sets p50': stats.setsMedian.toFixed(3),
    'sets worst': stats.setsWorst.toFixed(3),
    'moved %': (stats.joinMoved * 100).toFixed(2),
    'ideal %': (stats.joinIdeal * 100).toFixed(2),
    'moved/ideal': (stats.joinMoved / stats.joinIdeal).toFixed(2),
    'worst join/ideal': (stats.joinWorst / stats.joinIdeal).toFixed(2),
  };
}

function hashTable() {
  const twenty = Array.from({ length: 65_536 }, (_, i) => `products:${String(i * 7_919).padStart(11, '0')}`);
  const wide = twenty.map((key) => key.replace('products', 'prödücts'));
  const murmurNs = nsPerCall((key) => DEFAULT_HASHER.hash(key), twenty);
  const rows = [
    { hash: 'murmur3 (DEFAULT_HASHER), ASCII', ns: murmurNs },
    { hash: 'murmur3 (DEFAULT_HASHER), non-ASCII', ns: nsPerCall((key) => DEFAULT_HASHER.hash(key), wide) },
    {
      hash: "crypto.createHash('md5')",
      ns: nsPerCall((key) => createHash('md5').update(key).digest().readUInt32LE(0), twenty.slice(0, 16_384)),
    },
    {
      hash: "crypto.hash('md5')",
      ns: nsPerCall((key) => cryptoHash('md5', key, 'buffer').readUInt32LE(0), twenty.slice(0, 16_384)),
    },
  ];
  return rows.map(({ hash, ns }) => ({
    hash,
    'ns/hash': ns.toFixed(1),
    'vs murmur3': `${(ns / murmurNs).toFixed(1)}x`,
  }));
}

const load = loadavg()
  .map((n) => n.toFixed(2))
  .join(' ');
console.log(
  `ring-balance, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, node ${process.version}, ` +
    `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), load ${load}; ` +
    `${KEY_COUNT.toLocaleString('en')} keys, DEFAULT_VIRTUAL_NODES=${DEFAULT_VIRTUAL_NODES}`,
);
// Warm up the JIT on a throwaway ring so the first row is not penalised.
{
  const warm = hashRing([ringNodeId(0), ringNodeId(1), ringNodeId(2)], { virtualNodes: 64 });
  for (let i = 0; i < 300_000; i++) sink ^= warm.ownerOf(keys[i % keys.length]).length;
}
const results = createResults('ring-balance');
console.log('\nHash of a 20-character key (reference: node:crypto md5, same run)\n');
const hashRows = hashTable();
printTable(hashRows);
results.addTable('Hash of a 20-character key (reference: node:crypto md5, same run)', hashRows);
console.log('\nKeys per node, and keys moved when one node joins (reference: the ideal 1/(n+1))\n');
const rows = [];
for (const nodeCount of NODE_COUNTS) for (const vnodes of VNODE_COUNTS) rows.push(measure(nodeCount, vnodes));
printTable(rows);
console.log(
  [
    '',
    'max/mean, min/mean, cv %: keys per node over the keys above (cv = standard deviation / mean).',
    `sets p50 / sets worst: busiest node's share of the hash space x nodes, over ${SETS} other member sets.`,
    `moved %: keys that changed owner when one node joined, average of ${JOINS} joins; every one moved to the`,
    'joining node (checked). worst join/ideal: the join that moved the most keys, against 1/(n+1).',
  ].join('\n'),
);
results.addTable('Keys per node, and keys moved when one node joins (reference: the ideal 1/(n+1))', rows);

// Charts: one group per cluster size, one bar per virtual-node count.
const byNodes = (field) =>
  NODE_COUNTS.map((nodes) => ({
    label: `${nodes} nodes`,
    bars: rows
      .filter((row) => row.nodes === nodes)
      .map((row) => ({ label: `${row.vnodes} vnodes`, value: Number(row[field]) })),
  }));
results.chart({
  id: 'balance',
  title: `Busiest node's share x nodes, worst of ${SETS} member sets (1.0 = perfect balance)`,
  unit: 'x mean',
  higherIsBetter: false,
  groups: byNodes('sets worst'),
});
results.chart({
  id: 'movement',
  title: 'Keys moved when one node joins, against the ideal 1/(n+1) (1.0 = ideal)',
  unit: 'x ideal',
  higherIsBetter: false,
  groups: byNodes('moved/ideal'),
});
await results.write({ keys: KEY_COUNT, defaultVirtualNodes: DEFAULT_VIRTUAL_NODES });
// keep results observable so the loops are not optimised away
if ((sink ^ ringSink()) === 0.5) console.log(sink);
