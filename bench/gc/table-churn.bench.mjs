// Young-generation survival of a table of requests in flight: a `Map` against an object with a
// null prototype (what distcache-core's `ChurnTable` is, src/util/churn-table.ts). The pattern is
// the peer client's (requests by id) and the keyspace's (reads in flight by key): a long-lived
// table, keys that never repeat, a few entries alive at a time, each entry holding what its
// request produced. V8 grows and shrinks a Map by copying it and leaves the old table linked to the
// new one (for iterators still walking it). Once a table has been promoted (it sat through a few
// collections during a quiet spell, or a full collection promoted it with the rest of the young
// generation), its successor is referenced from the old generation, and every scavenge keeps the
// chain of copies made since, and their entries, alive until the next full collection, which
// promotes the current table and starts a new chain. This scenario shows the mechanism on its own,
// with no distcache code.
//
// Each candidate runs in a child process started with `--trace-gc-nvp`; the parent reads the
// child's scavenge lines (bytes allocated, survived and promoted, pause) over the timed window.
// Per operation: a new id, an entry holding a decoded ~1 KB product (JSON.parse), put in the table;
// once `--in-flight` entries are in, the oldest is removed (answered). Before the timed window: a
// warm-up, then a quiet spell in which the table is left alone while the process allocates.
//
// Run:     node bench/gc/table-churn.bench.mjs   # ~15 s
// Options: --rounds=2 --duration-ms=3000 --in-flight=16
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from '../lib/measure.mjs';
import { makeProduct } from '../lib/product.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const CANDIDATES = {
  map: 'Map',
  object: 'null-prototype object (ChurnTable)',
};

if (process.argv[2] === '--child') {
  const [, , , kind, durationArg, inFlightArg] = process.argv;
  const durationMs = Number(durationArg);
  const inFlight = Number(inFlightArg);
  const texts = Array.from({ length: 64 }, (_, i) => JSON.stringify(makeProduct(i)));
  const table =
    kind === 'map'
      ? new Map()
      : {
          slots: Object.create(null),
          set(key, value) {
            this.slots[key] = value;
          },
          delete(key) {
            delete this.slots[key];
          },
        };
  let id = 0;
  const step = () => {
    id++;
    table.set(id, { id, value: JSON.parse(texts[id & 63]) });
    if (id > inFlight) table.delete(id - inFlight);
  };
  // Warm-up, then a quiet spell: the process allocates without touching the table (other work,
  // as between bursts of requests), so the table sits through a few scavenges and is promoted.
  const warmUntil = performance.now() + 500;
  while (performance.now() < warmUntil) for (let i = 0; i < 1000; i++) step();
  let sink;
  for (let i = 0; i < 300_000; i++) sink = JSON.parse(texts[i & 63]);
  if (sink === undefined) throw new Error('unreachable');
  console.log('@start');
  const started = performance.now();
  const first = id;
  while (performance.now() - started < durationMs) for (let i = 0; i < 1000; i++) step();
  console.log(`@ops ${((id - first) / (performance.now() - started)) * 1000}`);
  process.exit(0);
}

const flags = parseFlags({ also: SCENARIO_FLAGS });
const rounds = numberFlag(flags, 'rounds', 2);
const durationMs = numberFlag(flags, 'duration-ms', 3000);
const inFlight = numberFlag(flags, 'in-flight', 16);
const results = createResults('table-churn');
console.log(`table-churn: ${machineLine()}`);

/** Runs one candidate in a child and sums its scavenges over the timed window. */
function runChild(kind) {
  const child = spawnSync(
    process.execPath,
    ['--trace-gc-nvp', fileURLToPath(import.meta.url), '--child', kind, String(durationMs), String(inFlight)],
    { encoding: 'utf8', maxBuffer: 256 << 20 },
  );
  if (child.status !== 0) throw new Error(`${kind} child failed: ${child.stderr}`);
  const lines = child.stdout.split('\n');
  const start = lines.indexOf('@start');
  const scavenges = [];
  let marks = 0;
  let ops = 0;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('@ops ')) ops = Number(line.slice(5));
    const fields = Object.fromEntries(
      line
        .split(' ')
        .filter((part) => part.includes('='))
        .map((part) => part.split('=')),
    );
    if (fields.gc === 's') scavenges.push(fields);
    else if (fields.gc === 'mc' || fields.gc === 'ms') marks++;
  }
  const sum = (name) => scavenges.reduce((total, fields) => total + Number(fields[name] ?? 0), 0);
  const count = Math.max(1, scavenges.length);
  return {
    ops,
    scavenges: scavenges.length,
    marks,
    allocatedMiB: sum('allocated') / 2 ** 20,
    survivedKiB: sum('new_space_survived') / 1024 / count,
    promotedKiB: sum('promoted') / 1024 / count,
    pauseMs: sum('pause') / count,
  };
}

const samples = [];
for (let round = 0; round < rounds; round++) {
  for (const kind of round % 2 === 0 ? ['map', 'object'] : ['object', 'map']) {
    samples.push({ round, kind, ...runChild(kind) });
  }
}
const rows = Object.entries(CANDIDATES).map(([kind, name]) => {
  const mine = samples.filter((sample) => sample.kind === kind);
  const pick = (field) => median(mine.map((sample) => sample[field]));
  const ratio = median(
    mine.map((sample) => {
      const map = samples.find((other) => other.round === sample.round && other.kind === 'map');
      return sample.ops / map.ops;
    }),
  );
  return {
    table: name,
    'ops/s': `${(pick('ops') / 1000).toFixed(0)} k`,
    scavenges: pick('scavenges').toFixed(0),
    'survived KiB/scavenge': pick('survivedKiB').toFixed(0),
    'promoted KiB/scavenge': pick('promotedKiB').toFixed(0),
    'scavenge pause ms': pick('pauseMs').toFixed(2),
    'full GCs': pick('marks').toFixed(0),
    'ops vs Map': formatRatio(ratio),
  };
});
console.log(
  `\n${inFlight} entries in flight, ${rounds} rounds x ${durationMs} ms per candidate (each in its own process), medians\n`,
);
results.table('Young-generation survival', rows, { align: { table: 'left' } });
await results.write({ config: { rounds, durationMs, inFlight } });
