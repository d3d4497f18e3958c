// Scenario 5: minutes of mixed churn past maxBytes on 3 nodes (gets of random keys over a key space
// much larger than the budget, getMany, puts, deletes), n2 killed -9 and restarted on its port
// mid-run. Samples heap/external/RSS after forced gc vs stats bytes every ~30 s.
// usage: node s5-churn.mjs <kind> <valueMode> <maxMiB> <minutes>
import { cluster, report, killAll, spawn } from './cluster.mjs';
const [kind = 'product', valueMode = 'frozen', maxMiB = '16', minutes = '4'] = process.argv.slice(2);
const opts = { kind, valueMode, maxBytes: Number(maxMiB) * 1048576 };
const { nodes, peers, ports } = await cluster(3, opts);
const end = Date.now() + Number(minutes) * 60_000;
let stop = false; let ops = 0;
const rnd = (n) => Math.floor(Math.random() * n);
async function driver(idx) {
  while (!stop) {
    const n = nodes[idx];
    if (n.child.exitCode !== null || n.child.signalCode !== null) { await new Promise((r) => setTimeout(r, 200)); continue; }
    const from = rnd(300_000);
    const which = rnd(10);
    try {
      if (which < 6) await n.call('gets', { from, count: 500, conc: 16 });
      else if (which < 8) await n.call('getMany', { from, count: 1000, batch: 500, conc: 2 });
      else if (which < 9) await n.call('puts', { from, count: 200, conc: 16, bump: true });
      else await n.call('deletes', { from, count: 200, conc: 16 });
      ops++;
    } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
}
try {
  const base = await report(nodes, 'base');
  const drivers = nodes.map((_, i) => driver(i));
  let sample = 0; let restarted = false;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 30_000));
    sample++;
    if (!restarted && sample === 3) {
      nodes[2].child.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 5000));
      nodes[2] = await spawn('n2', ports[2], peers, opts);
      restarted = true;
      console.log('n2 killed -9 and restarted');
    }
    await report(nodes, `t=${sample * 30}s ops ${ops}`, base);
  }
  stop = true; await Promise.all(drivers);
  await new Promise((r) => setTimeout(r, 15_000));
  await report(nodes, 'idle 15s after', base);
} finally { stop = true; await killAll(nodes); }
