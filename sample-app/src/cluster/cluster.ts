// Runs N catalogue nodes as child processes on loopback, as one distcache cluster (static
// discovery, or NATS discovery through a nats-server this process starts). Without a DATABASE_URL, this process owns the one PGlite database of the cluster and
// answers the nodes' SQL over IPC (PGlite is single-process; three nodes opening one directory
// would corrupt it, and three copies would not be one catalogue). Used by `npm start` and the e2e tests.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureCatalogue } from '../database/catalogue.schema.js';
import {
  type QueryReply,
  isQueryMessage,
  isReadyMessage,
  type ReadyMessage,
} from '../database/launcher.protocol.js';
import { PgliteDatabase } from '../database/pglite.database.js';
import { type OwnedNatsServer, startNatsServer } from './nats-server.js';
import { pickPorts } from './ports.js';

/** How the nodes find each other. */
export type ClusterDiscovery = 'static' | 'nats';

export interface ClusterOptions {
  /** Number of nodes. @default 3 */
  size?: number;
  /** PostgreSQL for every node; otherwise a PGlite database owned by this process. */
  databaseUrl?: string;
  /** PGlite data directory; `undefined` keeps it in memory. */
  pgliteDir?: string;
  /** Products seeded into an empty database. */
  seedProducts?: number;
  /** First HTTP port (then +1, +2...); taken ports are replaced by free ones; 0 for any. @default 0 */
  httpPort?: number;
  /** First peer (cache) port. @default 0 */
  cachePort?: number;
  /** First admin/dashboard port; `undefined`: no dashboard. */
  adminPort?: number;
  /** Nest log levels of the nodes. @default 'warn,error' */
  logLevels?: string;
  /** Extra environment for every node. */
  env?: Record<string, string>;
  /** Receives every output line of the nodes. @default drop */
  onOutput?: (node: string, line: string) => void;
  /** How long to wait for the cluster to form. @default 30_000 */
  readyTimeoutMs?: number;
  /**
   * `static`: every node gets the peer list (`CACHE_PEERS`). `nats`: this process starts its own
   * nats-server on a free loopback port, the nodes use `natsDiscovery` on it (`NATS_URL`), and
   * `stop()` stops it after the nodes. @default 'static'
   */
  discovery?: ClusterDiscovery;
  /** Preferred nats-server port with `discovery: 'nats'` (taken: a free one). @default 0 */
  natsPort?: number;
}

export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly peerId: string;
  readonly adminUrl: string | undefined;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
}

export interface RunningCluster {
  readonly nodes: ClusterNode[];
  /** `pglite (in memory)`, `pglite (<dir>)` or `postgres`. */
  readonly database: string;
  readonly discovery: ClusterDiscovery;
  /** The URL of the nats-server this launcher started (`discovery: 'nats'` only). */
  readonly natsUrl: string | undefined;
  /** SIGTERM every node still running, wait for them, stop nats-server, close the database. Idempotent. */
  stop(): Promise<void>;
}

const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = `${APP_ROOT}dist/main.js`;
const NAMES = 'abcdefghijklmnopqrstuvwxyz';

export async function startCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  const size = options.size ?? 3;
  if (!existsSync(MAIN))
    throw new Error(`${MAIN} does not exist: build the sample app first (npm run build -w sample-app)`);
  const taken = new Set<number>();
  const discovery = options.discovery ?? 'static';
  const natsPorts = discovery === 'nats' ? await pickPorts(1, options.natsPort ?? 0, taken) : [];

  const nats: OwnedNatsServer | undefined =
    natsPorts[0] === undefined ? undefined : await startNatsServer(natsPorts[0]);
  let pglite: PgliteDatabase | undefined;
  try {
    pglite = options.databaseUrl === undefined ? await PgliteDatabase.open(options.pgliteDir) : undefined;
    if (pglite !== undefined) await ensureCatalogue(pglite, options.seedProducts ?? 50_000);
  } catch (error) {
    await nats?.stop();
    await pglite?.close();
    throw error;
  }
  // Picked once the catalogue is seeded (seconds on a fresh database), just before the nodes
  // start: the less time between the probe and the listen, the less another process can take one.
  const httpPorts = await pickPorts(size, options.httpPort ?? 0, taken);
  const cachePorts = await pickPorts(size, options.cachePort ?? 0, taken);
  const adminPorts = options.adminPort === undefined ? [] : await pickPorts(size, options.adminPort, taken);
  const peers = cachePorts.map((port) => `127.0.0.1:${port}`);

  const nodes: ClusterNode[] = [];
  const children: ChildProcess[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all(
        nodes.map(async (node) => {
          if (node.process.exitCode !== null || node.process.signalCode !== null) return;
          node.process.kill('SIGTERM');
          const timer = setTimeout(() => node.process.kill('SIGKILL'), 10_000);
          await node.exited;
          clearTimeout(timer);
        }),
      );
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      // After the nodes: they announce their departure through NATS on the way out.
      await nats?.stop();
      await pglite?.close();
    })());

  try {
    const started = await Promise.all(
      cachePorts.map((cachePort, index) => {
        const name = `node-${NAMES[index] ?? String(index)}`;
        const env: Record<string, string> = {
          ...(process.env as Record<string, string>),
          ...options.env,
          NODE_NAME: name,
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: String(httpPorts[index]),
          CACHE_HOST: '127.0.0.1',
          CACHE_PORT: String(cachePort),
          CACHE_DISCOVERY: discovery,
          LOG_LEVELS: options.logLevels ?? 'warn,error',
          SEED_PRODUCTS: String(options.seedProducts ?? 50_000),
        };
        // The nodes' lines reach the terminal through this process: coloured only when they reach
        // one (Nest's logger colours unless NO_COLOR; a log written to a file kept the escapes).
        if (process.stdout.isTTY !== true) env.NO_COLOR = '1';
        if (nats !== undefined) {
          env.NATS_URL = nats.url;
          delete env.CACHE_PEERS; // the nodes find each other through NATS only
        } else {
          env.CACHE_PEERS = peers.join(',');
          delete env.NATS_URL;
        }
        if (adminPorts[index] !== undefined) env.ADMIN_PORT = String(adminPorts[index]);
        else delete env.ADMIN_PORT;
        if (options.databaseUrl !== undefined) {
          env.DATABASE_URL = options.databaseUrl;
          env.DATABASE_DRIVER = 'postgres';
        } else {
          delete env.DATABASE_URL;
          env.DATABASE_DRIVER = 'launcher';
        }
        const child = fork(MAIN, [], {
          env,
          serialization: 'advanced',
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
          // Its own process group: Ctrl-C reaches the launcher only, which stops the nodes in order.
          detached: true,
        });
        children.push(child);
        return startNode(name, child, pglite, options);
      }),
    );
    nodes.push(...started);
    await waitForMembers(nodes, size, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    nodes.push(
      ...children
        .filter((child) => !nodes.some((node) => node.process === child))
        .map((child) => ({
          name: '?',
          url: '',
          peerId: '',
          adminUrl: undefined,
          process: child,
          exited: exitOf(child),
        })),
    );
    await stop();
    throw error;
  }
  const database =
    options.databaseUrl !== undefined ? 'postgres' : `pglite (${options.pgliteDir ?? 'in memory'})`;
  return { nodes, database, discovery, natsUrl: nats?.url, stop };
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function startNode(
  name: string,
  child: ChildProcess,
  pglite: PgliteDatabase | undefined,
  options: ClusterOptions,
): Promise<ClusterNode> {
  const exited = exitOf(child);
  let output = '';
  const onData = (chunk: Buffer): void => {
    const text = chunk.toString();
    output = (output + text).slice(-20_000);
    for (const line of text.split('\n')) if (line.trim() !== '') options.onOutput?.(name, line);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.on('message', (message: unknown) => {
    if (!isQueryMessage(message) || pglite === undefined) return;
    pglite.query(message.sql, message.params).then(
      (rows) => reply(child, { kind: 'db.rows', id: message.id, rows }),
      (error: unknown) =>
        reply(child, {
          kind: 'db.error',
          id: message.id,
          message: error instanceof Error ? error.message : String(error),
          code: (error as { code?: string }).code,
        }),
    );
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in time:\n${output}`)),
      options.readyTimeoutMs ?? 30_000,
    );
    void exited.then(() => {
      clearTimeout(timer);
      reject(
        new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`),
      );
    });
    child.on('message', (message: unknown) => {
      if (!isReadyMessage(message)) return;
      clearTimeout(timer);
      const ready: ReadyMessage = message;
      resolve({
        name,
        url: ready.url,
        peerId: ready.peerId,
        adminUrl: ready.adminUrl,
        process: child,
        exited,
      });
    });
  });
}

function reply(child: ChildProcess, message: QueryReply): void {
  if (child.connected) child.send(message, (error) => void error);
}

async function waitForMembers(nodes: readonly ClusterNode[], size: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const members = await Promise.all(
      nodes.map(async (node) => {
        try {
          const response = await fetch(`${node.url}/stats`);
          return ((await response.json()) as { members: number }).members;
        } catch {
          return 0;
        }
      }),
    );
    if (members.every((count) => count === size)) return;
    if (Date.now() > deadline)
      throw new Error(`the cluster did not form in ${timeoutMs} ms (members: ${members.join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
