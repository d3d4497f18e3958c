// Issue 14, scenario 3: kill -9 of one node of three and a restart on the same port after
// `downMs` (or once per entry of `downtimes`, c then b then a), inside the failure timeout (default cluster options: 3 s), under random
// put/delete/get from this process. One versioned database here answers every node's data
// source; a writer bumps the version, then puts or deletes through a node (one write per key at a
// time, so versions are acknowledged in order).
//
// Stale read (the history checker's rule with one writer per key): a get sent at t that returns a
// version older than the newest write acknowledged before t.
import { seededRandom } from '../random.mjs';
import { freePorts, killMember, pollUntil, seeExactly, sleep, spawnMember } from './member-cluster.mjs';

/**
 * @returns figures: `staleReads` by node, the first few stale reads, failed requests by code,
 *   reads/writes sent, and when every ring saw 3 members again (ms after the restart).
 */
export async function runRestart({
  downMs = 1_000,
  downtimes = [downMs],
  seed = 1,
  keyCount = 60,
  readsPerSecond = 150,
  writesPerSecond = 30,
  beforeMs = 2_000,
  afterMs = 6_000,
  clusterOptions,
} = {}) {
  const random = seededRandom(seed);
  const keys = Array.from({ length: keyCount }, (_, i) => `k${i}`);
  const rows = new Map(keys.map((key) => [key, 0]));
  const ports = await freePorts(3);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  const names = ['a', 'b', 'c'];
  const options = { sourceFromParent: true, clusterOptions, seed };
  const hooks = { source: (key) => ({ id: key, version: rows.get(key) ?? 0 }) };
  const nodes = [];
  const up = new Set();
  const spawn = async (index) => {
    const { node } = await spawnMember(names[index], ports[index], peers, options, hooks);
    nodes[index] = node;
    up.add(index);
  };
  const acks = new Map(); // key -> [{ version, at }]
  const writing = new Set();
  const reads = [];
  const failures = {};
  let writes = 0;
  const fail = (code) => {
    failures[code] = (failures[code] ?? 0) + 1;
  };
  const floor = (key, at) =>
    (acks.get(key) ?? []).reduce((max, ack) => (ack.at < at ? Math.max(max, ack.version) : max), 0);
  // For the report: when each thing happened, in ms since the load started.
  let loadStartedAt = performance.now();
  const since = (at) => Math.round(at - loadStartedAt);
  const timeline = [];
  const pickNode = () => {
    const list = [...up];
    return list.length === 0 ? undefined : nodes[list[Math.floor(random() * list.length)]];
  };
  const pickKey = () => keys[Math.floor(random() * keys.length)];
  const inFlight = new Set();
  const track = (promise) => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
  };
  const read = () => {
    const node = pickNode();
    if (node === undefined) return;
    const key = pickKey();
    const sentAt = performance.now();
    const minimum = floor(key, sentAt);
    track(
      node.call('timed', { op: 'get', key }, 30_000).then(
        (answer) => {
          if (answer.error !== undefined) return fail(answer.error.code);
          reads.push({
            node: node.name,
            key,
            sentAt,
            answeredAt: performance.now(),
            version: answer.value?.version,
            floor: minimum,
          });
        },
        (error) => fail(error?.code ?? 'E_IPC'),
      ),
    );
  };
  const write = () => {
    const node = pickNode();
    if (node === undefined) return;
    const key = pickKey();
    if (writing.has(key)) return;
    writing.add(key);
    const version = (rows.get(key) ?? 0) + 1;
    rows.set(key, version);
    writes += 1;
    const op = random() < 0.3 ? 'delete' : 'put';
    const value = { id: key, version };
    track(
      node
        .call('timed', op === 'put' ? { op, key, value } : { op, key }, 30_000)
        .then(
          (answer) => {
            if (answer.error !== undefined) return fail(answer.error.code);
            const list = acks.get(key) ?? [];
            list.push({ version, at: performance.now(), op, node: node.name });
            acks.set(key, list);
          },
          (error) => fail(error?.code ?? 'E_IPC'),
        )
        .finally(() => writing.delete(key)),
    );
  };
  const timers = [];
  const every = (perSecond, issue) => {
    const started = performance.now();
    let sent = 0;
    const tick = () => {
      const due = Math.floor(((performance.now() - started) * perSecond) / 1_000);
      for (; sent < due; sent += 1) issue();
      timers.push(setTimeout(tick, 10));
    };
    timers.push(setTimeout(tick, 10));
  };

  try {
    await Promise.all(names.map((_, index) => spawn(index)));
    if (!(await pollUntil(() => seeExactly(nodes, peers), 20_000))) throw new Error('no 3-node ring');
    loadStartedAt = performance.now();
    every(readsPerSecond, read);
    every(writesPerSecond, write);
    await sleep(beforeMs);
    // One restart per downtime, of c, then b, then a (then c again...).
    const rejoinMs = [];
    let rejoined = true;
    for (const [round, down] of downtimes.entries()) {
      const index = 2 - (round % 3);
      up.delete(index);
      timeline.push(`${since(performance.now())} kill ${names[index]}`);
      await killMember(nodes[index]);
      await sleep(down);
      await spawn(index);
      const restartedAt = performance.now();
      timeline.push(`${since(restartedAt)} ${names[index]} started`);
      rejoined &&= await pollUntil(() => seeExactly(nodes, peers), 15_000, 10);
      timeline.push(`${since(performance.now())} rings agree`);
      rejoinMs.push(Math.round(performance.now() - restartedAt));
      await sleep(afterMs);
    }
    for (const timer of timers) clearTimeout(timer);
    await Promise.allSettled([...inFlight]);
    const stale = reads.filter((r) => r.version === undefined || r.version < r.floor);
    const staleByNode = Object.fromEntries(
      names.map((name) => [name, stale.filter((r) => r.node === name).length]),
    );
    return {
      downtimes,
      seed,
      reads: reads.length,
      writes,
      staleReads: stale.length,
      staleByNode,
      examples: stale.slice(0, 5).map((r) => {
        const ack = (acks.get(r.key) ?? []).find((a) => a.version === r.floor);
        const by =
          ack === undefined ? '' : `, v${r.floor}: ${ack.op} on ${ack.node} acked at ${since(ack.at)}`;
        return `${r.node} read ${r.key} v${r.version ?? 'none'} < v${r.floor} (sent at ${since(r.sentAt)}, answered at ${since(r.answeredAt)}${by})`;
      }),
      timeline,
      failures,
      rejoined,
      rejoinMs,
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await Promise.all(nodes.filter(Boolean).map((node) => killMember(node)));
  }
}
