// Issue 14, opt-in full size: every node of three runs 1,000 requests in flight (30% getMany of
// 100 keys) for 20 s over 20,000 warmed entries, with `hotTtl: 0`. Acceptance per run: 0 members
// removed, 0 entries dropped, data-source calls after the warm-up <= 1% of the entries, no E_TIMEOUT.
import { machineLine, printTable } from '../lib/report.mjs';
import { runSaturation } from '../../packages/distcache-core/test/support/membership/load.scenarios.mjs';
import { parseCli } from './cli.mjs';

const options = parseCli(
  'node bench/membership/saturation.bench.mjs  (build first: npm run build -w distcache-core)',
  {
    runs: { default: '5', help: 'runs' },
    seconds: { default: '20', help: 'duration of each run' },
    entries: { default: '20000', help: 'entries warmed before each run' },
    'in-flight': { default: '1000', help: 'requests in flight per node' },
    'get-many-share': { default: '0.3', help: 'share of requests that are getMany' },
    batch: { default: '100', help: 'keys per getMany' },
  },
);

console.log(machineLine());
const rows = [];
for (let run = 0; run < options.runs; run += 1) {
  const f = await runSaturation({
    entries: options.entries,
    durationMs: options.seconds * 1_000,
    inFlight: options['in-flight'],
    getManyShare: options['get-many-share'],
    batch: options.batch,
    seed: run + 1,
  });
  const ok =
    f.peerLeft === 0 &&
    f.dropped === 0 &&
    f.sourceCalls <= f.entries / 100 &&
    (f.errors.E_TIMEOUT ?? 0) === 0;
  const row = {
    run: run + 1,
    'requests/s (3 nodes)': f.requestsPerSecond,
    'source calls after warm-up': f.sourceCalls,
    'entries dropped': f.dropped,
    'drop-all events': f.dropEvents,
    'peer left events': f.peerLeft,
    'peer events': f.peerEvents,
    E_TIMEOUT: f.errors.E_TIMEOUT ?? 0,
    errors: JSON.stringify(f.errors),
    acceptance: ok ? 'yes' : 'NO',
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
printTable(rows);
