// Scenario 3: writes (put/delete) of distinct keys broadcast across nodes; then with one node killed
// (SIGKILL, still listed by static discovery) so writers keep missed invalidations for it.
// usage: node s3-writes.mjs <keyLen> <writesPerPhase> <op: puts|deletes> [maxBytesMiB]
import { cluster, report, killAll } from './cluster.mjs';
const [keyLen = '900', per = '30000', op = 'puts', maxMiB = '8'] = process.argv.slice(2);
const suffix = ':' + 'x'.repeat(Math.max(0, Number(keyLen) - 8));
const { nodes } = await cluster(3, { kind: 'small', maxBytes: Number(maxMiB) * 1048576 });
try {
  const base = await report(nodes, 'base');
  const rep = report; const internals = async (ns, l) => { for (const n of ns) console.log(`   ${l} ${n.name} internals ${JSON.stringify(await n.call('internals'))}`); };
  let t = Date.now();
  let res = await nodes[0].call(op, { from: 0, count: Number(per), suffix, conc: 32 });
  console.log(`A: ${per} ${op} all alive, ${Date.now() - t} ms ${JSON.stringify(res)}`);
  await report(nodes, `A ${op} alive`, base); await internals(nodes, `A ${op} alive`);
  // one more write after the 3 s replay window: prunes ClusterWrites.recent
  await new Promise((r) => setTimeout(r, 4000));
  await nodes[0].call(op, { from: 10_000_000, count: 1, suffix, conc: 1 });
  await report(nodes, `A' +1 write after 4s`, base); await internals(nodes, `A' +1 write after 4s`);
  nodes[2].child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 4000));
  for (let phase = 0; phase < Number(process.env.PHASES ?? 3); phase++) {
    t = Date.now();
    res = await nodes[0].call(op, { from: (phase + 1) * Number(per), count: Number(per), suffix, conc: 32 });
    console.log(`B${phase}: ${per} ${op} with n2 dead, ${Date.now() - t} ms ${JSON.stringify(res)}`);
    await report(nodes.slice(0, 2), `B${phase} ${op} n2 dead`, base); await internals(nodes.slice(0, 2), `B${phase} ${op} n2 dead`);
  }
  // stop writing; wait past every window (16-32 s recent removals, 3 s replay)
  await new Promise((r) => setTimeout(r, 35000));
  await report(nodes.slice(0, 2), `C idle 35s`, base); await internals(nodes.slice(0, 2), `C idle 35s`);
  await nodes[0].call(op, { from: 20_000_000, count: 1, suffix, conc: 1 });
  await nodes[1].call(op, { from: 20_000_001, count: 1, suffix, conc: 1 });
  await report(nodes.slice(0, 2), `C' +1 write each`, base); await internals(nodes.slice(0, 2), `C' +1 write each`);
} finally { await killAll(nodes); }
