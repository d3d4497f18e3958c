// One cluster node of the port-abuse scenarios, in its own process (started by lib.mjs, possibly
// behind `bash -c 'ulimit -n N; exec node node.mjs'`). It runs the built distcache-core with default
// transport limits unless the scenario overrides some, `hotTtl: 0` so that every read of a key
// another node owns is a round trip over the peer port, and a logger that prints warnings and
// errors (the rate-limited lines about the attack are part of the evidence) and counts them.
//
// Config: env PORT_ABUSE_NODE = { name, port, peers: [port..], transport?: {...} }
// IPC in:  { id, cmd: 'members' | 'read' | 'logs' | 'stop', ...args }
// IPC out: { ready: true } once started; { id, result } or { id, error } per command
import { DistCacheEngine, staticDiscovery } from 'distcache-core';
import { makeProduct } from '../lib/product.mjs';

const config = JSON.parse(process.env.PORT_ABUSE_NODE ?? '{}');
const lines = { warn: 0, error: 0, first: [] };
const record = (level) => (message) => {
  lines[level]++;
  if (lines.first.length < 40) lines.first.push(`${level}: ${message}`);
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} [${config.name}] ${level}: ${message}\n`);
};
const noop = () => undefined;

const engine = new DistCacheEngine({
  nodeName: config.name,
  host: '127.0.0.1',
  port: config.port,
  discovery: staticDiscovery({ peers: config.peers.map((port) => `127.0.0.1:${port}`) }),
  clusterOptions: { hotTtl: 0 },
  transportOptions: config.transport,
  logger: { debug: noop, info: noop, warn: record('warn'), error: record('error') },
  keySpaces: [
    {
      name: 'kv',
      maxBytes: 64 << 20,
      dataSource: async (key) => makeProduct(Number(key.slice(key.indexOf(':') + 1))),
    },
  ],
});

/** Gets of the keys `owner` owns, `concurrency` in flight, for `durationMs`: latency quantiles. */
async function read({ owner, durationMs, concurrency = 4 }) {
  const keys = Array.from({ length: 2000 }, (_, i) => `product:${i}`).filter(
    (key) => engine.ownerOf('kv', key) === owner,
  );
  if (keys.length === 0) return { ops: 0, errors: { 'no keys owned by the victim (not a member?)': 1 } };
  const latencies = [];
  const errors = {};
  const end = performance.now() + durationMs;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const key = keys[next++ % keys.length];
        const started = performance.now();
        try {
          await engine.get('kv', key, { timeout: 2000 });
          latencies.push(performance.now() - started);
        } catch (error) {
          errors[error?.code ?? 'other'] = (errors[error?.code ?? 'other'] ?? 0) + 1;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { ops: latencies.length, p50: at(0.5), p99: at(0.99), max: at(1), errors };
}

const commands = {
  members: async () => engine.stats().members,
  read,
  logs: async () => lines,
  stop: async () => {
    await engine.stop();
    setImmediate(() => process.exit(0));
  },
};

process.on('message', async ({ id, cmd, ...args }) => {
  try {
    process.send({ id, result: await commands[cmd](args) });
  } catch (error) {
    process.send({ id, error: String(error?.message ?? error) });
  }
});

await engine.start();
process.send({ ready: true });
