// Catalogue apps in child processes: real separate Node processes, each a Nest application with
// its own engine, sharing a file "database", talking over loopback TCP and answering HTTP.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterOptions } from 'distcache-core';
import { freePorts, waitUntil } from './net';

/** How long a child may take to report that it listens. */
const START_TIMEOUT_MS = 60_000;
const catalogMain = fileURLToPath(new URL('./catalog.main.ts', import.meta.url));
const register = fileURLToPath(new URL('./register-swc.mjs', import.meta.url));

export interface ChildNode {
  readonly name: string;
  readonly id: string;
  readonly url: string;
  readonly process: ChildProcess;
  /** Resolves once the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ChildCluster {
  readonly nodes: ChildNode[];
  readonly directory: string;
}

function spawnNode(
  main: string,
  name: string,
  port: number,
  peers: readonly string[],
  options: ClusterOptions,
  database: string,
): Promise<ChildNode> {
  const child = fork(main, [], {
    execArgv: ['--import', register],
    env: {
      ...process.env,
      NODE_NAME: name,
      CACHE_PORT: String(port),
      CACHE_PEERS: peers.join(','),
      CLUSTER_OPTIONS: JSON.stringify(options),
      CATALOG_DB: database,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    // A ceiling, not a measurement: six children compiling with swc on a loaded 2-core machine
    // (two e2e files run side by side) have taken over 20 s to listen.
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in ${START_TIMEOUT_MS / 1000} s:\n${output}`)),
      START_TIMEOUT_MS,
    );
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
    child.on('message', (message: { type?: string; url?: string; id?: string }) => {
      if (message.type !== 'ready' || message.url === undefined || message.id === undefined) return;
      clearTimeout(timer);
      resolve({ name, id: message.id, url: message.url, process: child, exited });
    });
  });
}

/**
 * Starts `size` apps in child processes; `main` is the app's entry point (the catalogue app by
 * default), which reports `{ type: 'ready', url, id }` once it listens.
 */
export async function startChildCluster(
  size: number,
  options: ClusterOptions,
  main = catalogMain,
): Promise<ChildCluster> {
  const directory = mkdtempSync(join(tmpdir(), 'nestjs-distcache-'));
  const ports = await freePorts(size);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  const started = await Promise.allSettled(
    ports.map((port, index) =>
      spawnNode(
        main,
        `child-${String.fromCharCode(97 + index)}`,
        port,
        peers,
        options,
        join(directory, 'catalog.json'),
      ),
    ),
  );
  const nodes = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) {
    await stopChildCluster({ nodes, directory });
    throw failed.reason;
  }
  await waitUntil(
    async () =>
      (await Promise.all(nodes.map((node) => getJson<{ members: number }>(node, '/cluster')))).every(
        (c) => c.members === size,
      ),
    10_000,
    'every child to see every member',
  );
  return { nodes, directory };
}

/** SIGTERMs every child still running and waits for them to exit. */
export async function stopChildCluster(cluster: ChildCluster): Promise<void> {
  for (const node of cluster.nodes) {
    if (node.process.exitCode === null && node.process.signalCode === null) node.process.kill('SIGTERM');
  }
  await Promise.all(cluster.nodes.map((node) => node.exited));
  rmSync(cluster.directory, { recursive: true, force: true });
}

export async function getJson<T>(node: ChildNode, path: string): Promise<T> {
  const response = await fetch(`${node.url}${path}`);
  return (await response.json()) as T;
}

export async function post(node: ChildNode, path: string, body?: unknown): Promise<number> {
  const response = await fetch(`${node.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  return response.status;
}
