// Issue 14, scenarios 1 and 2: a pause below the failure timeout, and saturation, on 3 node
// processes with N cached entries. Nothing is written in either, so every data-source call after
// the warm-up and every entry dropped is self-inflicted: the ideal is 0 of each.
import { keyRange, killMembers, pollUntil, seeExactly, sleep, startMembers } from './member-cluster.mjs';

const sum = (list, pick) => list.reduce((total, item) => total + pick(item), 0);
const mergeCounts = (into, from) => {
  for (const [code, count] of Object.entries(from ?? {})) into[code] = (into[code] ?? 0) + count;
  return into;
};

/** Loads every key once, each node a third of them, and returns the source calls it took. */
async function warmUp(nodes, keys) {
  const share = Math.ceil(keys.length / nodes.length);
  await Promise.all(
    nodes.map((node, index) =>
      node.call('warm', { keys: keys.slice(index * share, (index + 1) * share) }, 120_000),
    ),
  );
}

async function figuresOf(nodes) {
  return Promise.all(nodes.map((node) => node.call('figures')));
}

/**
 * One node of three blocks its event loop for `pauseMs` while the others serve a light load; with
 * `pausedNodes` 2 or 3, the next node does the same once the first has settled, and so on (the
 * failure detector's phase against the pause differs each time). Figures are summed.
 * @returns figures: `sourceCalls` caused after the pause (light load plus a re-read of every key),
 *   `dropped` entries, `dropEvents`, `peerLeft` events, load errors on the healthy nodes by code.
 */
export async function runPause({
  entries = 5_000,
  valueBytes = 1_000,
  pauseMs = 2_850,
  loadPerSecond = 30,
  settleMs = 4_000,
  pausedNodes = 1,
  clusterOptions,
  seed = 1,
} = {}) {
  const keys = keyRange(entries);
  const { nodes } = await startMembers(3, { valueBytes, clusterOptions, seed });
  try {
    const [a, b, c] = nodes;
    await warmUp(nodes, keys);
    const warmCalls = sum(await figuresOf(nodes), (f) => f.sourceCalls);
    // Light load on every node, the paused one included (its requests wait out the pause).
    await Promise.all(nodes.map((node) => node.call('startLoad', { perSecond: loadPerSecond, keys })));
    await sleep(500);
    const before = await figuresOf(nodes);
    const pausedAt = Date.now();
    const ids = nodes.map((node) => node.id);
    let converged = true;
    for (const paused of [c, b, a].slice(0, pausedNodes)) {
      await paused.call('block', { ms: pauseMs }, pauseMs + 30_000);
      // Let membership settle: the failure detector, the rejoin, the drops that follow contact.
      await sleep(settleMs);
      converged &&= await pollUntil(() => seeExactly(nodes, ids), 15_000);
    }
    const loads = await Promise.all(nodes.map((node) => node.call('stopLoad')));
    // Every key read once more: a key dropped anywhere costs a data-source call now.
    await warmUp(nodes, keys);
    await sleep(200);
    const after = await figuresOf(nodes);
    const peerLeft = after.flatMap((f) => f.peerEvents.filter((e) => e.type === 'left' && e.at >= pausedAt));
    return {
      entries,
      pauseMs,
      warmCalls,
      sourceCalls: sum(after, (f) => f.sourceCalls) - sum(before, (f) => f.sourceCalls),
      dropped: sum(after, (f) => f.dropped) - sum(before, (f) => f.dropped),
      dropEvents: sum(after, (f) => f.dropEvents) - sum(before, (f) => f.dropEvents),
      peerLeft: peerLeft.length,
      converged,
      pausedNodes,
      // Load errors by node (a, b, c). With one pause, c paused and a and b stayed healthy.
      errorsByNode: Object.fromEntries(nodes.map((node, index) => [node.name, loads[index]?.errors ?? {}])),
      requests: sum(loads, (l) => l.ok + l.failed),
    };
  } finally {
    await killMembers(nodes);
  }
}

/**
 * Every node runs `inFlight` requests at a time (a share of them getMany of `batch` keys) for
 * `durationMs` over warmed keys, with `hotTtl: 0` so every read of a key owned elsewhere crosses
 * the wire.
 * @returns figures: `sourceCalls` after the warm-up, `dropped`, `dropEvents`, `peerLeft`, errors
 *   by code, requests completed.
 */
export async function runSaturation({
  entries = 5_000,
  valueBytes = 1_000,
  durationMs = 5_000,
  inFlight = 1_000,
  getManyShare = 0.3,
  batch = 100,
  seed = 1,
} = {}) {
  const keys = keyRange(entries);
  const { nodes } = await startMembers(3, { valueBytes, clusterOptions: { hotTtl: 0 }, seed });
  try {
    await warmUp(nodes, keys);
    await sleep(300);
    const before = await figuresOf(nodes);
    const startedAt = Date.now();
    await Promise.all(nodes.map((node) => node.call('startLoad', { inFlight, getManyShare, batch, keys })));
    await sleep(durationMs);
    const loads = await Promise.all(nodes.map((node) => node.call('stopLoad', {}, 120_000)));
    const endedAt = Date.now();
    await sleep(200);
    const after = await figuresOf(nodes);
    const peerEvents = after.flatMap((f) => f.peerEvents.filter((e) => e.at >= startedAt));
    return {
      entries,
      durationMs,
      inFlight,
      sourceCalls: sum(after, (f) => f.sourceCalls) - sum(before, (f) => f.sourceCalls),
      dropped: sum(after, (f) => f.dropped) - sum(before, (f) => f.dropped),
      dropEvents: sum(after, (f) => f.dropEvents) - sum(before, (f) => f.dropEvents),
      peerLeft: peerEvents.filter((e) => e.type === 'left').length,
      peerEvents: peerEvents.length,
      errors: loads.reduce((all, load) => mergeCounts(all, load.errors), {}),
      requests: sum(loads, (l) => l.ok + l.failed),
      requestsPerSecond: Math.round((sum(loads, (l) => l.ok + l.failed) * 1_000) / (endedAt - startedAt)),
    };
  } finally {
    await killMembers(nodes);
  }
}
