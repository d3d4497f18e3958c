// Scenario 1: remote reads of many distinct keys from one node (hot copies), churn over rounds.
// usage: node s1-reads.mjs <kind> <valueMode> <maxBytesMiB> <keysPerRound> <rounds> [getMany batch]
import { cluster, report, killAll } from './cluster.mjs';
const [kind = 'product', valueMode = 'frozen', maxMiB = '8', per = '20000', rounds = '5', batch = '0'] = process.argv.slice(2);
const { nodes } = await cluster(3, { kind, valueMode, maxBytes: Number(maxMiB) * 1048576 });
try {
  const base = await report(nodes, 'base');
  for (let r = 0; r < Number(rounds); r++) {
    const from = r * Number(per);
    const t = Date.now();
    const res = Number(batch) > 0
      ? await nodes[0].call('getMany', { from, count: Number(per), batch: Number(batch), conc: 2 })
      : await nodes[0].call('gets', { from, count: Number(per), conc: 32 });
    // read them again (second read: decoded hot copies / owned entries)
    await nodes[0].call('gets', { from, count: Number(per), conc: 32 });
    console.log(`round ${r} ${Date.now() - t} ms errors ${JSON.stringify(res)}`);
    await report(nodes, `${kind}/${valueMode} r${r}`, base);
  }
} finally { await killAll(nodes); }
