// Three cluster nodes as separate processes that find each other through NATS; one is killed
// with SIGKILL (no departure notice, no leave message to peers). The survivors drop it through the
// failure detector, and discovery drops it once its heartbeats have been missing for the timeout.
// The children run the built package (test/support/nats-node.mjs): `npm run build` first.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { natsDiscovery } from '../../src/discovery/nats';
import { freePorts, waitUntil } from '../support/cluster';
import { type NatsServer, startNatsServer } from '../support/nats-server';

const SCRIPT = join(import.meta.dirname, '..', 'support', 'nats-node.mjs');
const HEARTBEAT_INTERVAL = 200;
const HEARTBEAT_TIMEOUT = 1_500;
const FAILURE_TIMEOUT = 600;

// The children import `distcache-core/nats` from dist; a build from before this provider existed
// exports nothing there.
const built = (await import('distcache-core/nats').catch(() => ({}))) as Record<string, unknown>;
const hasBuiltProvider = typeof built.natsDiscovery === 'function';
if (!hasBuiltProvider)
  console.warn('nats.process.spec: dist has no natsDiscovery; run `npm run build` first');

interface NodeProcess {
  readonly name: string;
  readonly id: string;
  readonly child: ChildProcess;
  call<R>(cmd: string, args?: Record<string, unknown>): Promise<R>;
}

let children: NodeProcess[] = [];
afterEach(async () => {
  await Promise.all(
    children.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }),
  );
  children = [];
});

function spawnNode(name: string, port: number, servers: string, cluster: string): Promise<NodeProcess> {
  const config = {
    name,
    port,
    discovery: {
      servers,
      cluster,
      heartbeatInterval: HEARTBEAT_INTERVAL,
      heartbeatTimeout: HEARTBEAT_TIMEOUT,
      discoverWindow: 100,
      reconnectTimeWait: 100,
    },
    clusterOptions: {
      pingInterval: 100,
      pingTimeout: 200,
      failureTimeout: FAILURE_TIMEOUT,
      discoveryInterval: 200,
    },
  };
  const child = fork(SCRIPT, [], {
    env: { ...process.env, DISTCACHE_NATS_NODE: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  child.on('message', (message: { id?: number; result?: unknown; error?: unknown }) => {
    const pending = message.id === undefined ? undefined : waiting.get(message.id);
    if (pending === undefined) return;
    waiting.delete(message.id!);
    if (message.error !== undefined) pending.reject(message.error);
    else pending.resolve(message.result);
  });
  child.on('exit', () => {
    for (const pending of waiting.values()) pending.reject(new Error(`${name} exited`));
    waiting.clear();
  });
  const node: NodeProcess = {
    name,
    id: `127.0.0.1:${port}`,
    child,
    call: <R>(cmd: string, args: Record<string, unknown> = {}) =>
      new Promise<R>((resolve, reject) => {
        const id = ++nextId;
        waiting.set(id, { resolve: (value) => resolve(value as R), reject });
        child.send({ id, cmd, ...args });
      }),
  };
  return new Promise((resolve, reject) => {
    child.once('message', (message: { ready?: boolean; failed?: unknown }) => {
      if (message.ready === true) resolve(node);
      else reject(new Error(`${name} failed to start: ${JSON.stringify(message.failed)}`));
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
  });
}

/** Polls an async condition every 20 ms. */
async function eventually(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!hasBuiltProvider)(
  'cluster of three processes discovering each other through NATS (built package)',
  () => {
    let server: NatsServer;
    beforeAll(async () => {
      server = await startNatsServer();
    });
    afterAll(async () => {
      await server.stop('SIGTERM');
    });

    it('kill -9 of a node: the failure detector drops it first, then discovery after the heartbeat timeout; its keys move', async () => {
      const ports = await freePorts(3);
      children = await Promise.all(
        ports.map((port, index) => spawnNode(`proc-${index}`, port, server.url, 'processes')),
      );
      const [a, b, victim] = children as [NodeProcess, NodeProcess, NodeProcess];
      for (const node of children)
        await eventually(
          async () => (await node.call<number>('members')) === 3,
          10_000,
          `${node.name} members`,
        );

      // A parent-side provider that only listens: it shows what discovery alone concludes.
      const observer = natsDiscovery({
        servers: server.url,
        cluster: 'processes',
        heartbeatInterval: HEARTBEAT_INTERVAL,
        heartbeatTimeout: HEARTBEAT_TIMEOUT,
        discoverWindow: 100,
      });
      try {
        await observer.initialize(new AbortController().signal);
        let listed = (await observer.discoverPeers(new AbortController().signal)).length;
        observer.watch((peers) => {
          listed = peers.length;
        });
        expect(listed).toBe(3);

        // Two keys the victim owns: one read before the kill, one kept cold for after it.
        const owned: string[] = [];
        for (let index = 0; owned.length < 2; index += 1) {
          if ((await a.call<string>('ownerOf', { key: String(index) })) === victim.id)
            owned.push(String(index));
        }
        const [warm, cold] = owned as [string, string];
        for (const node of children)
          expect(await node.call('get', { key: warm })).toEqual({ id: warm, version: 0 });
        expect((await victim.call<Record<string, number>>('calls'))[warm]).toBe(1);

        const killedAt = Date.now();
        victim.child.kill('SIGKILL');
        await eventually(
          async () => (await a.call<number>('members')) === 2 && (await b.call<number>('members')) === 2,
          FAILURE_TIMEOUT + 2_000,
          'the failure detector to drop the victim',
        );
        await waitUntil(() => listed === 2, HEARTBEAT_TIMEOUT * 4, 'discovery to drop the victim');
        const expiredAfter = Date.now() - killedAt;
        expect(expiredAfter).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT / 2);
        expect(expiredAfter).toBeLessThan(HEARTBEAT_TIMEOUT * 2);
        for (const node of [a, b]) {
          await eventually(
            async () => !(await node.call<string[]>('discovered')).includes(victim.id),
            HEARTBEAT_TIMEOUT,
            `${node.name} discovery to drop the victim`,
          );
        }

        // The victim's cold key has a new owner among the survivors, which loads it once for both.
        const newOwner = await a.call<string>('ownerOf', { key: cold });
        expect([a.id, b.id]).toContain(newOwner);
        expect(await b.call<string>('ownerOf', { key: cold })).toBe(newOwner);
        for (const node of [a, b])
          expect(await node.call('get', { key: cold })).toEqual({ id: cold, version: 0 });
        const owner = newOwner === a.id ? a : b;
        const other = owner === a ? b : a;
        expect((await owner.call<Record<string, number>>('calls'))[cold]).toBe(1);
        expect((await other.call<Record<string, number>>('calls'))[cold]).toBeUndefined();
      } finally {
        await observer.close();
      }
    });
  },
);
