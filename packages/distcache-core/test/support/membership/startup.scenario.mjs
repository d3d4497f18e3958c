// Issue 14, scenario 4: three processes started together (as every replica of a new rollout is),
// each reading the same cold keys right after its own `start()` resolved. Owner-based loading
// makes that one data-source call per key cluster-wide, provided the nodes are on each other's
// rings when `start()` returns.
import { freePorts, killMembers, pollUntil, sleep, spawnMember } from './member-cluster.mjs';

/**
 * One run.
 * @returns figures: data-source calls cluster-wide, members each node saw when `start()`
 *   resolved, and per node `startAfterRingMs`: how long after its ring became complete its
 *   `start()` resolved (negative: it resolved before the ring was complete; the epoch times
 *   come from the same host clock).
 */
export async function runStartup({ keyCount = 30, run = 0, clusterOptions } = {}) {
  const ports = await freePorts(3);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  const keys = Array.from({ length: keyCount }, (_, i) => `cold-${run}-${i}`);
  const options = { valueBytes: 100, readOnStart: keys, expectMembers: 3, clusterOptions };
  const started = await Promise.allSettled(
    ['a', 'b', 'c'].map((name, index) => spawnMember(name, ports[index], peers, options)),
  );
  const nodes = started.filter((s) => s.status === 'fulfilled').map((s) => s.value.node);
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw new Error(`a node failed to start: ${JSON.stringify(failed.reason)}`);
    const ready = started.map((s) => s.value.ready);
    // The reads were awaited before `ready`; wait for every ring to be complete (so each node
    // has its `ringCompleteAt`), then count.
    await pollUntil(async () => {
      const members = await Promise.all(nodes.map(async (node) => (await node.call('figures')).members));
      return members.every((count) => count === 3);
    }, 5_000);
    await sleep(100);
    const figures = await Promise.all(nodes.map((node) => node.call('figures')));
    const startAfterRingMs = figures.map((f, index) =>
      f.ringCompleteAt === undefined ? null : Math.round(ready[index].startReturnedAt - f.ringCompleteAt),
    );
    return {
      keys: keyCount,
      sourceCalls: figures.reduce((total, f) => total + f.sourceCalls, 0),
      membersAtStart: ready.map((r) => r.membersAtStart),
      startAfterRingMs,
      startReadErrors: ready.reduce((total, r) => total + r.startReadErrors, 0),
    };
  } finally {
    await killMembers(nodes);
  }
}
