// Driver helpers: fork N nodes (own processes, loopback), call commands, print memory tables.
import { fork } from 'node:child_process';
import net from 'node:net';
const NODE = '/work/main/scratch-mem2/node.mjs';
export async function freePort() {
  return new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
}
export function spawn(name, port, peers, opts) {
  const child = fork(NODE, [], { execArgv: ['--expose-gc', ...(opts.execArgv ?? [])], env: { ...process.env, MEMNODE: JSON.stringify({ name, port, peers, ...opts }) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 0; const waiting = new Map();
  child.on('message', (m) => { if (m.id === undefined) return; const w = waiting.get(m.id); waiting.delete(m.id); m.error ? w?.rej(m.error) : w?.res(m.result); });
  child.on('exit', () => { for (const w of waiting.values()) w.rej({ code: 'EXITED' }); waiting.clear(); });
  const node = { name, port, child, call: (cmd, args = {}) => new Promise((res, rej) => { const id = ++nextId; waiting.set(id, { res, rej }); child.send({ id, cmd, ...args }); }) };
  return new Promise((res, rej) => { child.on('message', (m) => m.ready && res(node)); child.once('exit', (c) => rej(new Error(`${name} exited ${c}`))); });
}
export async function cluster(n, opts) {
  const ports = []; for (let i = 0; i < n; i++) ports.push(await freePort());
  const peers = ports.map((p) => `127.0.0.1:${p}`);
  const nodes = await Promise.all(ports.map((p, i) => spawn(`n${i}`, p, peers, opts)));
  const deadline = Date.now() + 15000;
  for (const node of nodes) while ((await node.call('members')) !== n) { if (Date.now() > deadline) throw new Error('members'); await new Promise((r) => setTimeout(r, 50)); }
  return { nodes, peers, ports };
}
const MiB = (x) => (x / 1048576).toFixed(1);
export async function report(nodes, label, base) {
  const rows = [];
  for (const node of nodes) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) continue;
    const m = await node.call('mem');
    const b = base?.[node.name];
    rows.push(`${label.padEnd(28)} ${node.name} heap ${MiB(m.heap)}${b ? ` (+${MiB(m.heap - b.heap)})` : ''} ext ${MiB(m.ext)} rss ${MiB(m.rss)} | counted ${MiB(m.bytes)} bk ${MiB(m.bk ?? 0)} items ${m.items} hot ${m.hot} max ${MiB(m.maxBytes)} ev ${m.evictions} old ${MiB(m.spaces.old_space)} lo ${MiB(m.spaces.large_object_space)} code ${MiB(m.spaces.code_space)} map ${MiB(m.spaces.map_space ?? 0)} infl ${m.inFlight}`);
    (base ??= {}); if (!label.startsWith('base')) {} 
    node.last = m;
  }
  console.log(rows.join('\n'));
  return Object.fromEntries(nodes.filter((n) => n.last).map((n) => [n.name, n.last]));
}
export async function killAll(nodes) { for (const n of nodes) { try { n.child.kill('SIGKILL'); } catch {} } }
