// Three cluster nodes as separate processes on loopback, driven over IPC. These tests kill -9 and
// SIGSTOP real processes and assert which process called its data source.
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OWNER_ANSWER_SLACK_MS } from '../../src/cluster/remote-loader';
import { killAll, type NodeProcess, startProcessCluster } from '../support/process-cluster';

let nodes: NodeProcess[] = [];
afterEach(async () => {
  await killAll(nodes);
  nodes = [];
});

const sum = (values: Record<string, number>[]) =>
  values.reduce((total, counts) => total + Object.values(counts).reduce((a, b) => a + b, 0), 0);
const callsFor = async (key: string): Promise<Record<string, number>> =>
  Object.fromEntries(
    await Promise.all(
      nodes.map(async (node): Promise<[string, number]> => [
        node.name,
        (await node.call<Record<string, number>>('calls'))[key] ?? 0,
      ]),
    ),
  );

async function ownerOf(key: string): Promise<NodeProcess> {
  const id = await nodes[0]!.call<string>('ownerOf', { key });
  return nodes.find((node) => node.id === id)!;
}

/** A key whose owner is `target`. */
async function keyOwnedBy(target: NodeProcess, from = 0): Promise<string> {
  for (let index = from; index < 1_000; index += 1) {
    if ((await ownerOf(String(index))) === target) return String(index);
  }
  throw new Error(`no key owned by ${target.name}`);
}

/** A line-per-message TCP client of a node's read port (`openReadPort` in cluster-node.mjs). */
async function lineClient(port: number) {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const lines: unknown[] = [];
  const waiting: Array<(line: unknown) => void> = [];
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) {
      const parsed: unknown = JSON.parse(line);
      const next = waiting.shift();
      if (next === undefined) lines.push(parsed);
      else next(parsed);
    }
  });
  return {
    send: (line: string) => socket.write(`${line}\n`),
    next: (): Promise<unknown> =>
      lines.length > 0 ? Promise.resolve(lines.shift()) : new Promise((resolve) => waiting.push(resolve)),
    close: () => socket.destroy(),
  };
}

describe('cluster of three processes', () => {
  it('loads a cold key once, in the owner process, whichever process is asked', async () => {
    nodes = await startProcessCluster(3);
    for (const key of ['1', '2', '3', '4']) {
      for (const node of nodes) expect(await node.call('get', { key })).toEqual({ id: key, version: 0 });
      const owner = await ownerOf(key);
      expect(await callsFor(key)).toEqual(
        Object.fromEntries(nodes.map((node) => [node.name, node === owner ? 1 : 0])),
      );
    }
  });

  it('3,000 concurrent gets of one cold key over three processes call the source once', async () => {
    nodes = await startProcessCluster(3, { sourceDelayMs: 50 });
    const bursts = await Promise.all(
      nodes.map((node) => node.call<{ ok: number }>('burst', { key: '77', count: 1_000 })),
    );
    expect(bursts.map((burst) => burst.ok)).toEqual([1_000, 1_000, 1_000]);
    expect(sum([await callsFor('77')])).toBe(1);
    expect((await callsFor('77'))[(await ownerOf('77')).name]).toBe(1);
  });

  it('a put on A is read on B and C without a source call; a delete on A makes the owner load again', async () => {
    nodes = await startProcessCluster(3);
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await a.call('put', { key: '5', value: { id: '5', version: 99 } });
    expect(await b.call('get', { key: '5' })).toEqual({ id: '5', version: 99 });
    expect(await c.call('get', { key: '5' })).toEqual({ id: '5', version: 99 });
    expect(sum([await callsFor('5')])).toBe(0);
    await a.call('delete', { key: '5' });
    expect(await b.call('get', { key: '5' })).toEqual({ id: '5', version: 0 });
    expect(await c.call('get', { key: '5' })).toEqual({ id: '5', version: 0 });
    const owner = await ownerOf('5');
    expect(await callsFor('5')).toEqual(
      Object.fromEntries(nodes.map((node) => [node.name, node === owner ? 1 : 0])),
    );
  });

  it('kill -9 of the owner under load: no get fails, the ring drops it, its keys get a new owner', async () => {
    const failureTimeoutMs = 1_000;
    nodes = await startProcessCluster(3, {
      clusterOptions: { pingInterval: 100, failureTimeout: failureTimeoutMs },
    });
    const [a, b, victim] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const keys = [await keyOwnedBy(victim), await keyOwnedBy(victim, 500)];
    for (const key of keys) await a.call('get', { key });

    let running = true;
    const failures: unknown[] = [];
    let reads = 0;
    const load = (async () => {
      while (running) {
        for (const node of [a, b]) {
          for (const key of keys) {
            await node
              .call('get', { key: String((Number(key) + reads) % 1_000) })
              .catch((error: unknown) => failures.push(error));
            await node.call('get', { key }).catch((error: unknown) => failures.push(error));
            reads += 2;
          }
        }
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    let droppedAfterMs = -1;
    while (Date.now() - killedAt < 10_000) {
      if ((await a.call<number>('members')) === 2 && (await b.call<number>('members')) === 2) {
        droppedAfterMs = Date.now() - killedAt;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    running = false;
    await load;

    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    expect(droppedAfterMs).toBeGreaterThanOrEqual(0);
    // Detection time plus one ping interval and scheduling slack on a shared machine.
    expect(droppedAfterMs).toBeLessThan(failureTimeoutMs + 1_500);
    const newOwner = await a.call<string>('ownerOf', { key: keys[0] });
    expect([a.id, b.id]).toContain(newOwner);
    expect(await b.call<string>('ownerOf', { key: keys[0] })).toBe(newOwner);
    const before = (await (newOwner === a.id ? a : b).call<Record<string, number>>('calls'))[keys[0]!] ?? 0;
    await (newOwner === a.id ? b : a).call('delete', { key: keys[0] });
    await (newOwner === a.id ? b : a).call('get', { key: keys[0] });
    const after = (await (newOwner === a.id ? a : b).call<Record<string, number>>('calls'))[keys[0]!] ?? 0;
    expect(after).toBe(before + 1);
  });

  it('SIGSTOP of a node: gets of its keys end within the read timeout and the wait for its answer, never hang; the ring drops it', async () => {
    const readTimeoutMs = 800;
    nodes = await startProcessCluster(3, {
      readTimeout: readTimeoutMs,
      clusterOptions: { pingInterval: 100, failureTimeout: 1_500 },
    });
    const [a, , frozen] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const key = await keyOwnedBy(frozen);
    frozen.child.kill('SIGSTOP');
    const first = await a.call<{ ms: number; error?: { code: string } }>('timedGet', { key });
    expect(first.ms).toBeLessThan(readTimeoutMs + OWNER_ANSWER_SLACK_MS + 500);
    if (first.error !== undefined) expect(first.error.code).toBe('E_TIMEOUT');
    const deadline = Date.now() + 5_000;
    while ((await a.call<number>('members')) !== 2) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const later = await a.call<{ ms: number; value?: unknown; error?: unknown }>('timedGet', { key });
    expect(later.error).toBeUndefined();
    expect(later.value).toEqual({ id: key, version: 0 });
    frozen.child.kill('SIGCONT');
    const rejoin = Date.now() + 5_000;
    while ((await a.call<number>('members')) !== 3) {
      expect(Date.now()).toBeLessThan(rejoin);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('SIGSTOP of a node: once it is off the ring, writes do not wait for it, and from its first read after waking it reads them', async () => {
    // A paused node never refuses: each write waited for its one attempt (min of pingTimeout and
    // broadcastTimeout, 1 s by default) for as long as the pause lasted. Now a candidate off the
    // ring that has not been heard from for a ping timeout gets the invalidation without being
    // waited for, and owes it until delivered. Mechanism check: 5 writes would take >= 5 s.
    nodes = await startProcessCluster(3, {
      clusterOptions: {
        pingInterval: 50,
        pingTimeout: 1_000,
        failureTimeout: 1_500,
        broadcastTimeout: 1_000,
      },
    });
    const [a, b, frozen] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const keys = [await keyOwnedBy(a), await keyOwnedBy(b)];
    for (const key of keys) expect(await frozen.call('get', { key })).toEqual({ id: key, version: 0 });
    frozen.child.kill('SIGSTOP');
    const dropped = Date.now() + 10_000;
    while ((await a.call<number>('members')) !== 2) {
      expect(Date.now()).toBeLessThan(dropped);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const writes: Array<{ ms: number; error?: unknown }> = [];
    for (let round = 1; round <= 5; round++)
      writes.push(
        await a.call('timedPut', { key: keys[round % 2], value: { id: keys[round % 2], version: round } }),
      );
    expect(writes.map((write) => write.error)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(writes.reduce((total, write) => total + write.ms, 0)).toBeLessThan(2_500);
    // Reads its own callers sent while it was paused wait in its IPC pipe: the woken loop reads them
    // before its timers could notice the stall. They were served its old copies (versions 0) until
    // the first read of a turn checked for a stall in progress and waited for the pull of what it
    // missed (docs/reliability.md, guarantee 4).
    const early = keys.map((key) => frozen.call('get', { key }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    frozen.child.kill('SIGCONT');
    expect(await Promise.all(early)).toEqual([
      { id: keys[0], version: 4 },
      { id: keys[1], version: 5 },
    ]);
    // What it missed reached it before it was routed to again: once back on the ring, the woken
    // node reads the last writes.
    const rejoined = Date.now() + 10_000;
    while ((await a.call<number>('members')) !== 3 || (await frozen.call<number>('members')) !== 3) {
      expect(Date.now()).toBeLessThan(rejoined);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await frozen.call('get', { key: keys[0] })).toEqual({ id: keys[0], version: 4 });
    expect(await frozen.call('get', { key: keys[1] })).toEqual({ id: keys[1], version: 5 });
  });

  it('a node whose loop stalled inside a callback waits for the pull of what it missed before it serves the reads that queued meanwhile', async () => {
    // A socket that had input when the loop stalled (a busy server) is read again right after the
    // stall, with the requests that arrived during it, before any timer could notice the stall.
    // Without the read path's own check those were served the old copies although the write had
    // resolved before they were sent (the checked read below: version 0 in every round).
    nodes = await startProcessCluster(3);
    const [writer, owner, stalled] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const port = await stalled.call<number>('openReadPort');
    const keys = [await keyOwnedBy(owner)];
    keys.push(await keyOwnedBy(owner, Number(keys[0]) + 1));
    for (const key of keys) expect(await stalled.call('get', { key })).toEqual({ id: key, version: 0 });
    // Its loop turns also read the cache from immediates (the check phase), as a peer's pipelined
    // requests do: a clock reading taken there must not stand for the next turn's input, read after
    // the stall (it did, with the reading dropped by a setImmediate).
    await stalled.call('backgroundReads', { key: await keyOwnedBy(stalled), on: true });
    const [control, reader] = await Promise.all([lineClient(port), lineClient(port)]);
    try {
      for (const [round, key] of keys.entries()) {
        // Keep the node busy for 100 ms, so that the stall and a first read reach it in one batch.
        control.send('spin 100');
        await new Promise((resolve) => setTimeout(resolve, 30));
        control.send('spin 1800');
        reader.send(`get ${key}`); // sent before the write: any version will do
        // The stalled node does not acknowledge the invalidation: the writer gives up on it after
        // the broadcast timeout (1 s), and the put resolves while the node still spins.
        await writer.call('put', { key, value: { id: key, version: round + 1 } });
        reader.send(`get ${key}`); // sent after the put resolved
        const [, late] = [await reader.next(), await reader.next()];
        expect(late).toEqual({ key, value: { id: key, version: round + 1 } });
        await new Promise((resolve) => setTimeout(resolve, 1_500)); // back on the writer's ring
      }
    } finally {
      control.close();
      reader.close();
    }
  });

  it("a node whose event loop stalls past the read timeout takes the owner's answer that arrived meanwhile", async () => {
    // Timers run before a loop turn reads its sockets: the request's deadline used to fire first
    // and fail a get whose answer had been waiting in the socket since the start of the stall.
    nodes = await startProcessCluster(2, { readTimeout: 200 });
    const [reader, owner] = nodes as [NodeProcess, NodeProcess];
    const warm = await keyOwnedBy(owner);
    expect(await reader.call('get', { key: warm })).toEqual({ id: warm, version: 0 });
    const keys = [await keyOwnedBy(owner, Number(warm) + 1)];
    keys.push(await keyOwnedBy(owner, Number(keys[0]) + 1));
    for (const key of keys) {
      const got = await reader.call<{ value?: unknown; error?: unknown }>('stalledGet', {
        key,
        stallMs: 600,
      });
      expect(got).toEqual({ value: { id: key, version: 0 } });
      // The owner loaded it, once; the stalled reader did not fall back to its own source.
      expect(await callsFor(key)).toEqual({ [reader.name]: 0, [owner.name]: 1 });
    }
  });

  it('randomized put/delete/get across processes: no read older than the last acknowledged write', async () => {
    nodes = await startProcessCluster(3);
    const keys = ['900', '901', '902', '903', '904', '905'];
    const acked = new Map(keys.map((key) => [key, 0]));
    let seed = 7;
    const random = () => {
      seed = (seed * 1_664_525 + 1_013_904_223) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    let writing = true;
    const stale: string[] = [];
    let reads = 0;
    const reader = async () => {
      while (writing) {
        const key = pick(keys);
        const node = pick(nodes);
        const floor = acked.get(key)!;
        const value = await node.call<{ version: number }>('get', { key });
        reads += 1;
        if (value.version < floor) stale.push(`${node.name} read ${key} v${value.version} after v${floor}`);
      }
    };
    const writer = async (group: readonly string[]) => {
      for (let step = 0; step < 30; step += 1) {
        const key = pick(group);
        const version = acked.get(key)! + 1;
        // Write the database first (every process's copy), then update or evict the cache.
        await Promise.all(
          nodes.map((node) => node.call('setDatabase', { key, value: { id: key, version } })),
        );
        if (random() < 0.5) await pick(nodes).call('put', { key, value: { id: key, version } });
        else await pick(nodes).call('delete', { key });
        acked.set(key, version);
      }
    };
    const readers = Array.from({ length: 4 }, () => reader());
    try {
      await Promise.all([writer(keys.slice(0, 3)), writer(keys.slice(3))]);
    } finally {
      writing = false;
      await Promise.allSettled(readers);
    }
    expect(stale).toEqual([]);
    expect(reads).toBeGreaterThan(50);
  });
});
