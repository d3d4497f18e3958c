// Issue 14, opt-in full size: three processes started together, 30 cold keys read on each right
// after its start() resolved. Acceptance: exactly 30 data-source calls cluster-wide in every run,
// and start() resolving within 100 ms after the node's ring became complete. "start after ring"
// is start()'s return minus the moment the node first saw 3 members (epoch clocks of one host);
// negative means start() resolved before its ring was complete.
import { machineLine, printTable } from '../lib/report.mjs';
import { runStartup } from '../../packages/distcache-core/test/support/membership/startup.scenario.mjs';
import { parseCli } from './cli.mjs';

const options = parseCli(
  'node bench/membership/startup.bench.mjs  (build first: npm run build -w distcache-core)',
  {
    runs: { default: '10', help: 'runs' },
    keys: { default: '30', help: 'cold keys read on each node' },
  },
);

console.log(machineLine());
const rows = [];
for (let run = 0; run < options.runs; run += 1) {
  const f = await runStartup({ keyCount: options.keys, run });
  const known = f.startAfterRingMs.filter((ms) => ms !== null);
  const row = {
    run: run + 1,
    'source calls': f.sourceCalls,
    'members at start()': f.membersAtStart.join('/'),
    'start after ring ms (a/b/c)': f.startAfterRingMs.map((ms) => ms ?? 'never').join('/'),
    'read errors': f.startReadErrors,
    acceptance:
      f.sourceCalls === options.keys && known.length === 3 && known.every((ms) => ms >= 0 && ms <= 100)
        ? 'yes'
        : 'NO',
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
printTable(rows);
