// A cluster of node processes for fault injection: every node behind the TCP fault proxy (or
// dialled directly), one versioned database in this process answering every node's data source,
// and the faults themselves (kill -9, SIGSTOP/SIGCONT, graceful stop and restart on the same port).
import { freePorts } from './cluster';
import { type NodeProcess, type ProcessClusterOptions, spawnNode } from './process-cluster';
import { BACKEND_HOST, FRONT_HOST, TcpFaultProxy } from './tcp-proxy';

export interface Versioned {
  id: string;
  version: number;
}

/**
 * The system of record: one version counter per key. Writers bump the version here before they
 * update the cache (write the database, then put or delete). It can be made to fail.
 */
export class VersionedDatabase {
  private readonly rows = new Map<string, Versioned>();
  /** Source calls by node name. */
  readonly calls = new Map<string, number>();
  /** Calls answered with an error, by node name. */
  readonly failedCalls = new Map<string, number>();
  /** When set, every call fails with this message. */
  failing: string | undefined;

  constructor(keys: readonly string[]) {
    for (const key of keys) this.rows.set(key, { id: key, version: 0 });
  }

  /** What a data source gets. */
  read(key: string, node: string): Versioned | undefined {
    this.calls.set(node, (this.calls.get(node) ?? 0) + 1);
    if (this.failing !== undefined) {
      this.failedCalls.set(node, (this.failedCalls.get(node) ?? 0) + 1);
      throw new Error(this.failing);
    }
    return this.rows.get(key);
  }

  /** Stores the next version of `key` and returns it. */
  bump(key: string): Versioned {
    const row = { id: key, version: (this.rows.get(key)?.version ?? 0) + 1 };
    this.rows.set(key, row);
    return row;
  }

  totalCalls(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }
}

export type NodeState = 'up' | 'frozen' | 'dead' | 'stopping';

export interface FaultNode {
  readonly name: string;
  /** `127.0.0.1:port`: its id on every ring, where peers dial it. */
  readonly id: string;
  readonly port: number;
  process: NodeProcess;
  state: NodeState;
}

export interface FaultClusterOptions extends Pick<ProcessClusterOptions, 'clusterOptions' | 'keySpace'> {
  /**
   * Route peer traffic through a {@link TcpFaultProxy}. Without it the nodes listen on
   * BACKEND_HOST and dial each other directly (a dead node refuses, a frozen one's kernel accepts).
   * @default true
   */
  proxy?: boolean;
  readTimeoutMs: number;
}

/** Every `ms` until `condition` holds or `timeoutMs` passed; resolves with whether it held. */
export async function pollUntil(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  ms = 20,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (performance.now() > deadline) return false;
    await sleep(ms);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FaultCluster {
  private constructor(
    readonly nodes: FaultNode[],
    readonly proxy: TcpFaultProxy | undefined,
    private readonly spawnOptions: ProcessClusterOptions,
    private readonly peers: string[],
    private readonly database: VersionedDatabase,
  ) {}

  /** Starts `size` nodes named a, b, c, ... and waits until each sees all of them. */
  static async start(
    size: number,
    database: VersionedDatabase,
    options: FaultClusterOptions,
  ): Promise<FaultCluster> {
    const names = Array.from({ length: size }, (_, index) => String.fromCharCode(97 + index));
    const proxied = options.proxy ?? true;
    const proxy = proxied ? new TcpFaultProxy() : undefined;
    // On BACKEND_HOST (127.0.0.2), which only these tests use, a port found free stays free until a
    // node takes it, even with other suites picking ports on 127.0.0.1 meanwhile.
    const ports = proxy === undefined ? await freePorts(size, BACKEND_HOST) : [];
    if (proxy !== undefined) for (const name of names) ports.push(await proxy.addNode(name));
    const advertised = proxied ? FRONT_HOST : BACKEND_HOST;
    const peers = ports.map((port) => `${advertised}:${port}`);
    const spawnOptions: ProcessClusterOptions = {
      clusterOptions: options.clusterOptions,
      readTimeout: options.readTimeoutMs,
      keySpace: { writeTimeout: options.readTimeoutMs, ...options.keySpace },
      sourceFromParent: true,
      host: BACKEND_HOST,
      advertiseHost: advertised,
    };
    const cluster = new FaultCluster([], proxy, spawnOptions, peers, database);
    try {
      const started = await Promise.all(
        names.map((name, index) => cluster.spawn(name, ports[index] as number)),
      );
      names.forEach((name, index) =>
        cluster.nodes.push({
          name,
          id: peers[index] as string,
          port: ports[index] as number,
          process: started[index] as NodeProcess,
          state: 'up',
        }),
      );
      const all = cluster.nodes.map((node) => node.name);
      if (!(await pollUntil(() => cluster.converged(all), 15_000))) {
        throw new Error(`the ${size} nodes did not see each other`);
      }
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  node(name: string): FaultNode {
    const node = this.nodes.find((candidate) => candidate.name === name);
    if (node === undefined) throw new Error(`no node ${name}`);
    return node;
  }

  /** Nodes that answer IPC now. */
  up(): FaultNode[] {
    return this.nodes.filter((node) => node.state === 'up');
  }

  /** kill -9. */
  async kill(name: string): Promise<void> {
    const node = this.node(name);
    node.state = 'dead';
    const exited = new Promise((resolve) => node.process.child.once('exit', resolve));
    node.process.child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: the process hangs, its sockets stay open, the kernel keeps accepting bytes. */
  freeze(name: string): void {
    const node = this.node(name);
    node.state = 'frozen';
    node.process.child.kill('SIGSTOP');
  }

  /** SIGCONT. */
  thaw(name: string): void {
    const node = this.node(name);
    node.process.child.kill('SIGCONT');
    node.state = 'up';
  }

  /** Graceful stop: the engine tells its peers it leaves, then the process exits. */
  async stop(name: string): Promise<void> {
    const node = this.node(name);
    node.state = 'stopping';
    const exited = new Promise((resolve) => node.process.child.once('exit', resolve));
    await node.process.call('stop').catch(() => undefined);
    await exited;
    node.state = 'dead';
  }

  /** Starts a dead node again, on the same port (same id on every ring). */
  async restart(name: string): Promise<void> {
    const node = this.node(name);
    if (node.state !== 'dead') throw new Error(`${name} is ${node.state}`);
    node.process = await this.spawn(name, node.port);
    node.state = 'up';
  }

  /** The member ids a node routes to, itself included. */
  memberIds(node: FaultNode): Promise<string[]> {
    return node.process.call<string[]>('memberIds', {}, 5_000);
  }

  /**
   * True when each node of `among` that is up (default: every node) sees exactly the nodes
   * `names` as members.
   */
  async converged(names: readonly string[], among?: readonly string[]): Promise<boolean> {
    const expected = this.nodes
      .filter((node) => names.includes(node.name))
      .map((node) => node.id)
      .sort()
      .join(',');
    const checked = this.up().filter((node) => among === undefined || among.includes(node.name));
    const views = await Promise.all(checked.map((node) => this.memberIds(node).catch(() => [] as string[])));
    return views.every((view) => view.join(',') === expected);
  }

  /**
   * Polls until every node that is up sees exactly `names`; resolves with the ms since `since`
   * (a `performance.now()` reading), or rejects after `timeoutMs`.
   */
  awaitConvergence(names: readonly string[], since: number, timeoutMs: number): Promise<number> {
    return this.awaitConvergenceOf(undefined, names, since, timeoutMs);
  }

  /** {@link awaitConvergence} for the nodes of `among` only. */
  async awaitConvergenceOf(
    among: readonly string[] | undefined,
    names: readonly string[],
    since: number,
    timeoutMs: number,
  ): Promise<number> {
    if (!(await pollUntil(() => this.converged(names, among), timeoutMs, 10))) {
      const views = await Promise.all(
        this.up().map(async (node) => `${node.name}: ${(await this.memberIds(node)).join(' ')}`),
      );
      throw new Error(`no convergence on [${names.join(',')}] within ${timeoutMs} ms; ${views.join('; ')}`);
    }
    return Math.round(performance.now() - since);
  }

  /** Keyspace stats of every node that is up, by name. */
  async stats(): Promise<Record<string, Record<string, unknown>>> {
    const up = this.up();
    const stats = await Promise.all(up.map((node) => node.process.call<Record<string, unknown>>('stats')));
    return Object.fromEntries(up.map((node, index) => [node.name, stats[index] as Record<string, unknown>]));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        const child = node.process.child;
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await exited;
      }),
    );
    await this.proxy?.close();
  }

  private spawn(name: string, port: number): Promise<NodeProcess> {
    return spawnNode(name, port, this.peers, this.spawnOptions, {
      source: (key) => this.database.read(key, name),
    });
  }
}
