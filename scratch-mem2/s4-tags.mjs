// Scenario 4: tagged entries and many deleteByTags of distinct (long) tags; then with n2 killed.
// usage: node s4-tags.mjs <tagsPerPhase>
import { cluster, report, killAll } from './cluster.mjs';
const [per = '20000'] = process.argv.slice(2);
const long = 'x'.repeat(200);
const { nodes } = await cluster(3, { kind: 'product', maxBytes: 8 * 1048576, tagsMod: 1_000_000, tagsPerEntry: 4, longTags: true });
const internals = async (ns, l) => { for (const n of ns) console.log(`   ${l} ${n.name} internals ${JSON.stringify(await n.call('internals'))}`); };
try {
  const base = await report(nodes, 'base');
  await nodes[0].call('gets', { from: 0, count: 20000, conc: 32 });
  await nodes[0].call('gets', { from: 0, count: 20000, conc: 32 });
  await report(nodes, 'filled tagged', base);
  let t = Date.now();
  let res = await nodes[0].call('deleteByTags', { count: Number(per), tagPrefix: 'tag-0-', tagSuffix: long, conc: 16 });
  console.log(`A: ${per} deleteByTags ${Date.now() - t} ms ${JSON.stringify(res)}`);
  await report(nodes, 'A deleteByTags', base); await internals(nodes, 'A');
  nodes[2].child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 4000));
  for (let p = 0; p < 3; p++) {
    t = Date.now();
    res = await nodes[0].call('deleteByTags', { count: Number(per), tagPrefix: `tag-1-${p}-`, tagSuffix: long, conc: 16 });
    console.log(`B${p}: ${per} deleteByTags n2 dead ${Date.now() - t} ms ${JSON.stringify(res)}`);
    await report(nodes.slice(0, 2), `B${p} deleteByTags n2 dead`, base); await internals(nodes.slice(0, 2), `B${p}`);
  }
} finally { await killAll(nodes); }
