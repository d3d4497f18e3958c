// Issue 14, opt-in full size: kill -9 of one node of three and a restart on the same port after
// each downtime (inside the 3 s failure timeout), under random put/delete/get (by default 150 gets/s and
// 30 writes/s over 60 keys, the fault suite's rates). Acceptance: 0 stale reads on every node, for every seed.
import { machineLine, printTable } from '../lib/report.mjs';
import { runRestart } from '../../packages/distcache-core/test/support/membership/restart.scenario.mjs';
import { parseCli } from './cli.mjs';

const options = parseCli(
  'node bench/membership/restart.bench.mjs  (build first: npm run build -w distcache-core)',
  {
    downtimes: { default: '500,1000,1500', help: 'ms between the kill and the restart', list: true },
    seeds: { default: '5', help: 'seeds per downtime (1..n)' },
    'after-ms': { default: '12000', help: 'load after the restart' },
    reads: { default: '150', help: 'gets/s sent to random nodes that are up' },
    writes: { default: '30', help: 'puts and deletes/s (30% deletes), one per key at a time' },
  },
);

console.log(machineLine());
const rows = [];
for (const downMs of options.downtimes) {
  for (let seed = 1; seed <= options.seeds; seed += 1) {
    const f = await runRestart({
      downMs,
      seed,
      afterMs: options['after-ms'],
      readsPerSecond: options.reads,
      writesPerSecond: options.writes,
    });
    const row = {
      'down ms': downMs,
      seed,
      reads: f.reads,
      writes: f.writes,
      'stale reads': f.staleReads,
      'stale a/b/c': `${f.staleByNode.a}/${f.staleByNode.b}/${f.staleByNode.c}`,
      'rejoin ms': f.rejoinMs.join('/'),
      failures: JSON.stringify(f.failures),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
printTable(rows);
