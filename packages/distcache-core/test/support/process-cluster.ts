// Cluster nodes as child processes, for tests that kill -9, SIGSTOP or restart a node.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { freePorts } from './cluster';

export interface NodeProcess {
  readonly name: string;
  readonly id: string;
  readonly child: ChildProcess;
  /** Sends a command and resolves with its result; rejects with `{ code, message }` on error. */
  call<R = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<R>;
}

const SCRIPT = join(import.meta.dirname, 'cluster-node.mjs');

export interface ProcessClusterOptions {
  clusterOptions?: Record<string, unknown>;
  readTimeout?: string | number;
  sourceDelayMs?: number;
  tls?: unknown;
  /** Interface the peer listener binds. @default '127.0.0.1' */
  host?: string;
  /** Host peers are told to dial (a proxy in front of the node). @default the value of `host` */
  advertiseHost?: string;
  /** More settings of the `products` keyspace (plain JSON: ttl, grace, circuitBreaker, ...). */
  keySpace?: Record<string, unknown>;
  /** The data source asks the parent (see {@link NodeHooks.source}) instead of a local map. */
  sourceFromParent?: boolean;
  /** Gives the keyspace a `tags` function: key n carries the tag `t<n % tagsByKeyMod>`. */
  tagsByKeyMod?: number;
}

/** Parent-side callbacks of a node. */
export interface NodeHooks {
  /**
   * Answers the node's data-source calls when it runs with `sourceFromParent`; a throw or a
   * rejection fails the call with its message.
   */
  source?: (key: string, node: string) => unknown;
}

export async function startProcessCluster(
  size: number,
  options: ProcessClusterOptions = {},
): Promise<NodeProcess[]> {
  const ports = await freePorts(size);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  const nodes = await Promise.all(
    ports.map((port, index) => spawnNode(`proc-${index}`, port, peers, options)),
  );
  for (const node of nodes) {
    const deadline = Date.now() + 15_000;
    while ((await node.call<number>('members')) !== size) {
      if (Date.now() > deadline) throw new Error(`${node.name} did not see ${size} members`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return nodes;
}

export function spawnNode(
  name: string,
  port: number,
  peers: string[],
  options: ProcessClusterOptions,
  hooks: NodeHooks = {},
): Promise<NodeProcess> {
  const child = fork(SCRIPT, [], {
    env: { ...process.env, DISTCACHE_NODE: JSON.stringify({ name, port, peers, ...options }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  child.on('message', (message: { id?: number; result?: unknown; error?: unknown; source?: SourceCall }) => {
    if (message.source !== undefined) return answerSource(child, name, message.source, hooks);
    if (message.id === undefined) return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) pending?.reject(message.error);
    else pending?.resolve(message.result);
  });
  child.on('exit', () => {
    for (const pending of waiting.values())
      pending.reject({ code: 'E_CHILD_EXITED', message: `${name} exited` });
    waiting.clear();
  });
  const node: NodeProcess = {
    name,
    id: `${options.advertiseHost ?? options.host ?? '127.0.0.1'}:${port}`,
    child,
    call: <R>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 20_000) =>
      new Promise<R>((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${name}: "${cmd}" got no answer in ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as R);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ id, cmd, ...args });
      }),
  };
  return new Promise((resolve, reject) => {
    // Replies to commands (a load driver may call a restarted node before it is ready) and data
    // source calls (a peer's read routed to it) are not the start's outcome: wait for the message
    // that says ready or failed.
    const started = (message: { id?: number; ready?: boolean; failed?: unknown }): void => {
      if (message.ready !== true && message.failed === undefined) return;
      child.off('message', started);
      if (message.ready === true) resolve(node);
      else reject(new Error(`${name} failed to start: ${JSON.stringify(message.failed)}`));
    };
    child.on('message', started);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
  });
}

interface SourceCall {
  sid: number;
  key: string;
}

function answerSource(child: ChildProcess, name: string, call: SourceCall, hooks: NodeHooks): void {
  const reply = (message: { value?: unknown; error?: string }): void => {
    // The node may have died meanwhile; its call is gone with it.
    if (child.connected) child.send({ sourceReply: call.sid, ...message }, () => undefined);
  };
  Promise.resolve()
    .then(() => {
      if (hooks.source === undefined) throw new Error('no source hook in the parent');
      return hooks.source(call.key, name);
    })
    .then(
      (value) => reply({ value }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
}

/** Ends every node still running (SIGCONT first, in case a test stopped one). */
export async function killAll(nodes: readonly NodeProcess[]): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      if (node.child.exitCode !== null || node.child.signalCode !== null) return;
      node.child.kill('SIGCONT');
      const exited = new Promise((resolve) => node.child.once('exit', resolve));
      node.child.kill('SIGKILL');
      await exited;
    }),
  );
}
