// Issue 14, scenario 5: misconfigured nodes next to a healthy 3-node cluster.
//   (a) a 4th node whose static list names the three, while theirs do not name it;
//   (b) a node of another `cluster` name that lists the three.
import {
  freePorts,
  killMember,
  killMembers,
  pollUntil,
  sleep,
  spawnMember,
  startMembers,
} from './member-cluster.mjs';

/** A DistCacheError code: `E_` and capitals. */
const isTypedCode = (code) => typeof code === 'string' && /^E_[A-Z_]+$/.test(code);

/**
 * (a) The asymmetric node `d` reads `keyCount` keys, a writes a new version of each, d reads them
 * again. Either d's `start()` fails with a typed error, or no read returns the old version.
 * @returns `{ refused, error?, staleReads, reads, membersSeenByD, membersSeenByOthers }`
 */
export async function runAsymmetricNode({ keyCount = 40 } = {}) {
  const { nodes, peers } = await startMembers(3, { valueBytes: 50 });
  let d;
  try {
    const [port] = await freePorts(1);
    const dPeers = [...peers, `127.0.0.1:${port}`];
    try {
      ({ node: d } = await spawnMember('d', port, dPeers, { valueBytes: 50 }));
    } catch (error) {
      return { refused: true, typed: isTypedCode(error?.code), error, staleReads: 0, reads: 0 };
    }
    // Let d's pings reach the others (and their answers come back) before it serves.
    await pollUntil(async () => (await d.call('figures')).members >= 2, 5_000);
    await sleep(1_000);
    const keys = Array.from({ length: keyCount }, (_, i) => `asym-${i}`);
    for (const key of keys) await d.call('get', { key });
    const [a] = nodes;
    for (const key of keys) await a.call('put', { key, value: { id: key, version: 1 } });
    let staleReads = 0;
    for (const key of keys) {
      const value = await d.call('get', { key });
      if (value?.version !== 1) staleReads += 1;
    }
    const membersSeenByD = (await d.call('figures')).members;
    const membersSeenByOthers = await Promise.all(
      nodes.map(async (node) => (await node.call('figures')).members),
    );
    return { refused: false, staleReads, reads: keys.length, membersSeenByD, membersSeenByOthers };
  } finally {
    if (d !== undefined) await killMember(d);
    await killMembers(nodes);
  }
}

/** Warnings about the cluster-name mismatch, in one node's log. */
const MISMATCH = 'cluster.?mismatch|another cluster|cluster name';

/**
 * (b) Node `x` of cluster `other` lists the three; it runs `observeMs` with its admin server on.
 * @returns `{ health: { status, body }, warnings: { x, cluster } }`: /healthz of x, and the
 *   mismatch warnings logged during `observeMs` by x and by the three together.
 */
export async function runClusterMismatch({ observeMs = 6_000 } = {}) {
  const { nodes, peers } = await startMembers(3, { valueBytes: 50 });
  let x;
  try {
    const [port] = await freePorts(1);
    try {
      ({ node: x } = await spawnMember('x', port, [...peers, `127.0.0.1:${port}`], {
        valueBytes: 50,
        cluster: 'other',
        admin: true,
      }).then(async (started) => {
        const response = await fetch(new URL('healthz', started.ready.adminUrl));
        started.node.adminUrl = started.ready.adminUrl;
        started.node.firstHealth = { status: response.status, body: await response.json() };
        return started;
      }));
    } catch (error) {
      // Refusing to start is also an answer: the node cannot serve as a member of the wrong cluster.
      return { refused: true, typed: isTypedCode(error?.code), error };
    }
    const since = Date.now();
    await sleep(observeMs);
    const response = await fetch(new URL('healthz', x.adminUrl));
    const health = { status: response.status, body: await response.json() };
    const count = async (node) =>
      (await node.call('warnings', { pattern: MISMATCH })).filter((line) => line.at >= since).length;
    const clusterCounts = await Promise.all(nodes.map(count));
    return {
      refused: false,
      observeMs,
      health,
      firstHealth: x.firstHealth,
      warnings: { x: await count(x), cluster: clusterCounts.reduce((a, b) => a + b, 0) },
      sampleWarnings: (await x.call('warnings', { pattern: MISMATCH }))
        .slice(0, 2)
        .map((line) => line.message),
    };
  } finally {
    if (x !== undefined) await killMember(x);
    await killMembers(nodes);
  }
}
