// The main job (`npm start` at the repository root): three catalogue nodes on loopback as one
// distcache cluster, sharing one database, until Ctrl-C. Static discovery by default; with
// `--nats` (or DISCOVERY=nats) the launcher starts its own nats-server on a free loopback port and
// the nodes find each other through it (natsDiscovery).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PGLITE_DIR, DEFAULT_SEED_PRODUCTS } from '../config/app.config.js';
import { CLUSTER_FILE_PATH as CLUSTER_FILE } from '../load/cluster-file.js';
import { parseCommandLine } from '../cli/command-line.js';
import { type ClusterDiscovery, startCluster } from './cluster.js';

const DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.data');

/** Exits with one line naming the variable (not NaN nodes, nor a stack trace). */
function refuse(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(2);
}

/** An integer environment variable within [min, max], or `fallback` when unset or empty. */
function integerFromEnv(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    refuse(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

const size = integerFromEnv('NODES', 3, 1, 9);
const databaseUrl = process.env.DATABASE_URL || undefined;
const pgliteDir = process.env.PGLITE_DIR || DEFAULT_PGLITE_DIR;
const seedProducts = integerFromEnv('SEED_PRODUCTS', DEFAULT_SEED_PRODUCTS, 1, 10_000_000);
const discoveryEnv = process.env.DISCOVERY?.trim().toLowerCase() || undefined;
if (discoveryEnv !== undefined && discoveryEnv !== 'static' && discoveryEnv !== 'nats')
  refuse(`DISCOVERY must be "static" or "nats", got "${process.env.DISCOVERY}"`);
const flags = parseCommandLine({
  command: 'npm start',
  help: `The catalogue service as a cluster of nodes on loopback (HTTP 3001..., peers 3311...,
dashboards 3321...) sharing one database, until Ctrl-C.

  --nats        form the cluster through NATS discovery (starts its own nats-server)
  -h, --help    this text

Environment: NODES (3), DATABASE_URL (PostgreSQL; PGlite when unset), PGLITE_DIR, SEED_PRODUCTS
(50000), DISCOVERY=nats (same as --nats). sample-app/README.md describes each.`,
  options: { nats: { type: 'boolean' } },
});
// `npm start -- --nats` at the root runs `npm run start -w sample-app --nats`: npm keeps that flag
// for itself as npm_config_nats=true instead of passing it on, so accept all three spellings.
const discovery: ClusterDiscovery =
  flags.nats === true || process.env.npm_config_nats === 'true' || discoveryEnv === 'nats'
    ? 'nats'
    : 'static';

const started = performance.now();
console.log(
  `distcache catalogue: starting ${size} nodes on loopback, database: ${
    databaseUrl === undefined
      ? `PGlite in ${relative(process.cwd(), pgliteDir).startsWith('..') ? pgliteDir : relative(process.cwd(), pgliteDir)} (owned by this launcher)`
      : 'PostgreSQL (DATABASE_URL)'
  }, discovery: ${discovery === 'nats' ? 'NATS (own nats-server)' : 'static'}`,
);
const cluster = await startCluster({
  size,
  databaseUrl,
  pgliteDir,
  seedProducts,
  httpPort: 3001,
  cachePort: 3311,
  adminPort: 3321,
  discovery,
  onOutput: (node, line) => console.log(`[${node}] ${line}`),
}).catch((error: unknown) => refuse(error instanceof Error ? error.message : String(error)));
mkdirSync(DATA_DIR, { recursive: true });
// The launcher's pid: only the launcher that wrote the file removes it (a second launcher, on its
// own database, removed the first one's file at its Ctrl-C, and the load script lost the cluster).
writeFileSync(
  CLUSTER_FILE,
  JSON.stringify(
    { launcherPid: process.pid, nodes: cluster.nodes.map(({ name, url }) => ({ name, url })) },
    null,
    2,
  ),
);

console.log(
  `cluster of ${size} ready in ${((performance.now() - started) / 1000).toFixed(1)} s${
    cluster.natsUrl === undefined ? '' : ` (NATS discovery via nats-server at ${cluster.natsUrl})`
  }\n`,
);
for (const node of cluster.nodes) {
  console.log(
    `  ${node.name}  API ${node.url}/products/42   health ${node.url}/health   stats ${node.url}/stats`,
  );
  if (node.adminUrl !== undefined) console.log(`          dashboard ${node.adminUrl}`);
}
const first = cluster.nodes[0]?.url ?? '';
console.log(`
Try:
  curl ${first}/products/42
  curl '${first}/products?ids=1,2,3'
  curl -X PUT -H 'content-type: application/json' -d '{"price": 19.99}' ${first}/products/42
  npm run load -w sample-app        # Zipf workload on all nodes, in another terminal

Ctrl-C stops the cluster.`);

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(
    `\n${signal}: stopping the nodes (each leaves the cluster), then ${
      cluster.natsUrl === undefined ? '' : 'nats-server and '
    }the database...`,
  );
  void cluster.stop().then(
    () => {
      if (clusterFileOwner() === process.pid) rmSync(CLUSTER_FILE, { force: true });
      console.log('stopped cleanly');
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
for (const node of cluster.nodes) {
  void node.exited.then(() => {
    if (!stopping) console.log(`${node.name} exited; the other nodes keep serving (Ctrl-C to stop all)`);
  });
}

/** The pid of the launcher that wrote the cluster file, if it is there and says. */
function clusterFileOwner(): number | undefined {
  try {
    return (JSON.parse(readFileSync(CLUSTER_FILE, 'utf8')) as { launcherPid?: number }).launcherPid;
  } catch {
    return undefined;
  }
}
