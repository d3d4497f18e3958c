// Scenario 6: keys that are V8 sliced strings of larger strings (String.prototype.slice/split of a
// bigger text, >= 13 chars), read from one node: hot copies and owned entries keep the key object.
// usage: node s6-sliced.mjs <padKB> <count>
import { cluster, report, killAll } from './cluster.mjs';
const [padKB = '16', count = '3000'] = process.argv.slice(2);
const { nodes } = await cluster(3, { kind: 'small', maxBytes: 8 * 1048576 });
try {
  const base = await report(nodes, 'base');
  const res = await nodes[0].call('getSliced', { from: 0, count: Number(count), padKB: Number(padKB), prefix: 'product-key-' });
  console.log(JSON.stringify(res));
  await report(nodes, `sliced keys pad ${padKB}KB`, base);
} finally { await killAll(nodes); }
