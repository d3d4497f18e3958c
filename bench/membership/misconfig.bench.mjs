// Issue 14, opt-in: misconfigured nodes next to a healthy 3-node cluster. (a) A 4th node whose
// static list names the three while theirs do not name it: refused at start with a typed error,
// or 0 stale reads after puts on another node. (b) A node of another cluster name: /healthz of
// that node and the mismatch warnings logged over the observation window on each side.
import { machineLine, printTable } from '../lib/report.mjs';
import {
  runAsymmetricNode,
  runClusterMismatch,
} from '../../packages/distcache-core/test/support/membership/misconfig.scenarios.mjs';
import { parseCli } from './cli.mjs';

const options = parseCli(
  'node bench/membership/misconfig.bench.mjs  (build first: npm run build -w distcache-core)',
  {
    keys: { default: '40', help: 'keys read, overwritten and read again on the asymmetric node' },
    'observe-ms': { default: '10000', help: 'observation window of the cluster-name mismatch' },
  },
);

console.log(machineLine());
const a = await runAsymmetricNode({ keyCount: options.keys });
const b = await runClusterMismatch({ observeMs: options['observe-ms'] });
printTable([
  {
    case: 'node missing from the others’ lists',
    outcome: a.refused
      ? `refused: ${a.error?.code} ${a.error?.message}`
      : `started, sees ${a.membersSeenByD} members`,
    'stale reads': a.refused ? '-' : `${a.staleReads} of ${a.reads}`,
  },
  {
    case: 'another cluster name',
    outcome: b.refused
      ? `refused: ${b.error?.code} ${b.error?.message}`
      : `/healthz ${b.health.status} ${JSON.stringify(b.health.body)}`,
    'stale reads': '-',
  },
]);
if (!b.refused) {
  console.log(
    `mismatch warnings in ${b.observeMs} ms: ${b.warnings.x} on the misconfigured node, ${b.warnings.cluster} on the three others`,
  );
  console.log(`e.g. ${b.sampleWarnings[0] ?? '(none)'}`);
}
