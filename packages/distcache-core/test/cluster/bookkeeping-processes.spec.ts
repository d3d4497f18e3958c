// What a node keeps for its peers counts against the keyspace's maxBytes (DESIGN: the budget is the
// memory the keyspace holds, bookkeeping included). Three processes on loopback; one is stopped
// (SIGSTOP: listed, unreachable) while another writes keys of 900 characters. Measured before the
// fix (2026-12-06, a helper's attack on the built package): 90,000 such writes with a listed node
// killed held +88.7 MiB of heap on the writer for an 8 MiB keyspace whose stats said 6.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, type NodeProcess, startProcessCluster } from '../support/process-cluster';

let nodes: NodeProcess[] = [];
afterEach(async () => {
  await killAll(nodes);
  nodes = [];
});

interface Stats {
  bytes: number;
  bookkeepingBytes: number;
  maxBytes: number;
  items: number;
}

async function waitForMembers(node: NodeProcess, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await node.call<number>('members')) !== count) {
    if (Date.now() > deadline) throw new Error(`${node.name} did not see ${count} members`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('bookkeeping within maxBytes, three processes', () => {
  it('a stopped node owed more invalidations than its share of the budget clears the keyspace when it returns, and the writer stays within maxBytes', async () => {
    const maxBytes = 64 * 1024;
    nodes = await startProcessCluster(3, {
      keySpace: { maxBytes },
      clusterOptions: { pingInterval: 100, failureTimeout: 1_500 },
    });
    const [writer, , away] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    // Two keys the stopped node owns and holds: one written while it is away, one not.
    const owned: string[] = [];
    for (let index = 0; index < 1_000 && owned.length < 2; index++)
      if ((await writer.call<string>('ownerOf', { key: String(index) })) === away.id)
        owned.push(String(index));
    const [key, untouched] = owned as [string, string];
    for (const held of owned) expect(await away.call('get', { key: held })).toEqual({ id: held, version: 0 });

    away.child.kill('SIGSTOP');
    await waitForMembers(writer, 2);
    // A new value it misses (the database first, as an application writes), then 300 deletes of
    // long keys: ~290 KB of invalidations owed to it, where an eighth of 64 KiB is allowed.
    const value = { id: key, version: 1 };
    for (const node of nodes) if (node !== away) await node.call('setDatabase', { key, value });
    await writer.call('put', { key, value });
    const long = (index: number) => `${index}-`.padEnd(900, 'k');
    await Promise.all(Array.from({ length: 300 }, (_, index) => writer.call('delete', { key: long(index) })));
    const stats = await writer.call<Stats>('stats');
    expect(stats.bookkeepingBytes).toBeGreaterThan(0);
    // Missed invalidations, recent writes and keys removed lately: each at most an eighth of the
    // entries' budget (maxBytes less the hot copies' share).
    expect(stats.bookkeepingBytes).toBeLessThanOrEqual((3 / 8) * maxBytes);
    expect(stats.bytes).toBeLessThanOrEqual(maxBytes);

    // Back only once the writes are older than the join replay's window (the failure timeout):
    // what it is told on its return comes from its missed invalidations alone.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    away.child.kill('SIGCONT');
    await away.call('setDatabase', { key, value });
    await waitForMembers(writer, 3);
    await waitForMembers(away, 3);
    // The returning node was told to clear the keyspace (its list would not fit): it serves the
    // new value, not the one it held.
    const deadline = Date.now() + 5_000;
    let seen: unknown;
    do {
      seen = await away.call('get', { key });
      if ((seen as { version: number }).version === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (Date.now() < deadline);
    expect(seen).toEqual({ id: key, version: 1 });
    // Cleared whole, not key by key: the key nobody wrote is loaded again too.
    expect(await away.call('get', { key: untouched })).toEqual({ id: untouched, version: 0 });
    expect((await away.call<Record<string, number>>('calls'))[untouched]).toBe(2);
    // Still within the budget once it is back (what was owed became one clear of the keyspace).
    const after = await writer.call<Stats>('stats');
    expect(after.bytes).toBeLessThanOrEqual(maxBytes);
  });
});
