// One cluster node in its own process (like test/support/cluster-node.mjs), driven over IPC.
// Run with --expose-gc. Config in env MEMNODE (JSON).
import { DistCacheEngine, staticDiscovery } from '/work/main/packages/distcache-core/dist/index.js';
import v8 from 'node:v8';

const cfg = JSON.parse(process.env.MEMNODE);
const word = (i, s) => ['steel','oak','compact','wireless','modular','premium','kitchen','travel'][(i * 7 + s * 13) % 8];
const MAKERS = {
  product: (i) => ({
    id: `p-${String(i).padStart(6, '0')}`, sku: `SKU-${(i * 7919) % 1_000_000}`,
    name: `${word(i, 1)} ${word(i, 2)} ${word(i, 3)} #${i}`,
    description: `${Array.from({ length: 56 }, (_, w) => word(i, w)).join(' ')}.`,
    price: { amount: 1999 + (i % 500) * 10, currency: 'EUR' }, inStock: i % 5 !== 0, rating: 3 + (i % 20) / 10,
    createdAt: new Date(Date.UTC(2025, i % 12, 1)), updatedAt: new Date(Date.UTC(2025, i % 12, 2)),
    tags: [word(i, 4), word(i, 5), word(i, 6), 'sale'],
    attributes: { color: word(i, 7), weightGrams: 250 + (i % 1000), dimensionsMm: { w: 100, h: 40, d: i % 10 } },
    categoryIds: [10 + (i % 7), 100 + (i % 31)],
  }),
  text: (i) => `${i}: ${'lorem ipsum dolor sit amet '.repeat(cfg.textRepeat ?? 150)}`,
  bigtext: (i) => `${i}: ${'lorem ipsum dolor sit amet '.repeat(20000)}`, // ~540 KB
  wide: (i) => Object.fromEntries(Array.from({ length: 1500 }, (_, k) => [`field${k}`, i + k])),
  record100: (i) => Object.fromEntries(Array.from({ length: 100 }, (_, k) => [`field${k}`, i * 100 + k])),
  // key set as data: each value has its own key names
  scores: (i) => Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`u${i * 30 + k}@example.com`, k * 10])),
  // distinct key set per value, 100 keys: compiled builders per shape
  shapes100: (i) => Object.fromEntries(Array.from({ length: 100 }, (_, k) => [`k${i}_${k}`, k])),
  // many nested objects each with its own key set
  nested: (i) => Array.from({ length: 20 }, (_, j) => Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`f${i}_${j}_${k}`, k]))),
  map: (i) => new Map(Array.from({ length: 20 }, (_, k) => [`key-${i}-${k}`, { rank: k, score: i + k / 3 }])),
  bigmap: (i) => new Map(Array.from({ length: 2000 }, (_, k) => [`key-${i}-${k}`, k])),
  small: (i) => ({ id: i, name: `user ${i}`, active: i % 2 === 0 }),
  buffer: (i) => ({ name: `thumb-${i}.webp`, bytes: Buffer.alloc(2048, i % 256) }),
  numbers: (i) => Array.from({ length: 64 }, (_, k) => (k % 2 === 0 ? i + k : (i + k) / 7)),
};
const make = MAKERS[cfg.kind ?? 'product'];
const num = (key) => Number(String(key).replace(/^\D*/, '').split(':')[0]) || 0;
let version = 0;

const engine = new DistCacheEngine({
  nodeName: cfg.name, host: '127.0.0.1', port: cfg.port,
  discovery: staticDiscovery({ peers: cfg.peers }),
  clusterOptions: cfg.clusterOptions,
  purgeInterval: cfg.purgeInterval,
  keySpaces: [{
    name: 'ks', readTimeout: '10s', maxBytes: cfg.maxBytes, valueMode: cfg.valueMode ?? 'frozen',
    ...(cfg.keySpace ?? {}),
    ...(cfg.tagsMod ? { tags: (_v, key) => Array.from({length: cfg.tagsPerEntry ?? 1}, (_, t) => `tag-${t}-${(num(key) + t) % cfg.tagsMod}${cfg.longTags ? 'x'.repeat(200) : ''}`) } : {}),
    dataSource: async (key) => make(num(key)),
  }],
});

async function settle() {
  let last = Infinity;
  for (let p = 0; p < 10; p++) {
    gc(); await new Promise((r) => setImmediate(r));
    const { heapUsed } = process.memoryUsage();
    if (heapUsed >= last - 1024) break;
    last = heapUsed;
  }
  gc();
  const m = process.memoryUsage();
  return m;
}
async function pool(n, conc, fn) {
  let next = 0; let errors = 0; const codes = {};
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next < n) { const i = next++; try { await fn(i); } catch (e) { errors++; codes[e?.code] = (codes[e?.code] ?? 0) + 1; } }
  }));
  return { errors, codes };
}
const key = (a, i) => `${a.prefix ?? 'k'}${(a.from ?? 0) + i}${a.suffix ?? ''}`;
const cmds = {
  members: async () => engine.stats().members,
  mem: async () => {
    const m = await settle();
    const s = engine.stats().keySpaces.ks;
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((x) => [x.space_name, x.space_used_size]));
    return { heap: m.heapUsed, ext: m.external, ab: m.arrayBuffers, rss: m.rss, bytes: s.bytes, bk: s.bookkeepingBytes, items: s.items, hot: s.hotItems, maxBytes: s.maxBytes, evictions: s.evictions, spaces, inFlight: s.inFlight };
  },
  gets: async (a) => pool(a.count, a.conc ?? 16, (i) => engine.get('ks', key(a, i))),
  getMany: async (a) => pool(Math.ceil(a.count / a.batch), a.conc ?? 2, (b) => engine.getMany('ks', Array.from({ length: Math.min(a.batch, a.count - b * a.batch) }, (_, j) => key(a, b * a.batch + j)))),
  puts: async (a) => pool(a.count, a.conc ?? 16, (i) => engine.put('ks', key(a, i), make((a.from ?? 0) + i + (a.bump ? ++version : 0)), a.tags ? { tags: a.tags } : undefined)),
  deletes: async (a) => pool(a.count, a.conc ?? 16, (i) => engine.delete('ks', key(a, i))),
  deleteByTags: async (a) => pool(a.count, a.conc ?? 4, (i) => engine.deleteByTags('ks', [`${a.tagPrefix ?? 'tag-0-'}${i}${a.tagSuffix ?? ''}`])),
  // keys handed to the engine as V8 sliced strings of a larger string (e.g. from split/slice of a
  // request body): each key is `${prefix}${n}:` cut from a string padded with padKB KiB.
  getSliced: async (a) => pool(a.count, a.conc ?? 16, (i) => {
    const parent = `${a.prefix ?? 'k'}${(a.from ?? 0) + i}:${'p'.repeat((a.padKB ?? 16) * 1024)}`;
    const cut = parent.indexOf(':');
    return engine.get('ks', parent.slice(0, Math.max(cut, 13)));
  }),
  internals: async () => {
    const c = engine.coordinator, w = engine.writes, sp = engine.spaces.get('ks');
    const debts = {}; for (const [p, d] of c.missed?.debts ?? []) debts[p] = { size: d.size, cleared: [...d.cleared] };
    const owed = Object.fromEntries(c.missed?.owed ?? []);
    return { debts, owed, recentWrites: w.recent.length - w.recentHead, recentArray: w.recent.length, recentBytes: Object.fromEntries(w.recentBytes), overflowed: [...w.overflowed.keys()], removals: sp?.removals?.size, removalBytes: sp?.removals?.bytes, tagRecords: sp?.tagVersions.records.size, tagBytes: sp?.tagVersions.bytes, bk: Object.fromEntries(sp?.bookkeeping ?? []), popular: sp?.popularKeys?.scores?.size };
  },
  stop: async () => { await engine.stop(); setImmediate(() => process.exit(0)); },
};
process.on('message', async ({ id, cmd, ...a }) => {
  try { process.send({ id, result: await cmds[cmd](a) }); }
  catch (e) { process.send({ id, error: { code: e?.code, message: String(e?.message ?? e) } }); }
});
await engine.start();
process.send({ ready: true });
