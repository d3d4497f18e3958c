// Consistency checker (issue 10): randomized concurrent put/delete/get histories across a 3-node
// cluster with hot copies on, recorded with real-time intervals and checked by
// test/support/history-checker.ts: no read may return a version older than the latest write
// acknowledged before the read was invoked, nor a value never written. Many seeds in one process,
// one run with a node per process, and two negative controls showing the checker does catch
// violations. The guarantee and the figures: docs/reliability.md, "Consistency".
import { afterAll, describe, expect, it } from 'vitest';
import { DistCacheEngine, isDistCacheError, staticDiscovery } from '../../src';
import { FAST_CLUSTER, freePorts, startCluster, stopAll, waitUntil } from '../support/cluster';
import {
  type CheckResult,
  checkHistory,
  describeViolations,
  History,
  type ReadRecord,
  type WriteRecord,
} from '../support/history-checker';
import { killAll, type NodeProcess, startProcessCluster } from '../support/process-cluster';
import { seededRandom } from '../support/random.mjs';

/** A database row; `id` is the key, so a value read under the wrong key is caught too. */
interface Row {
  id: string;
  version: number;
}

/** What the workload needs of a node, in-process or in a child process. */
interface NodeDriver {
  readonly name: string;
  get(key: string): Promise<Row | undefined>;
  put(key: string, row: Row): Promise<void>;
  delete(key: string): Promise<void>;
  getMany?(keys: readonly string[]): Promise<ReadonlyMap<string, Row | undefined>>;
  putMany?(rows: readonly Row[]): Promise<void>;
  deleteMany?(keys: readonly string[]): Promise<void>;
  deleteByTags?(tags: readonly string[]): Promise<void>;
}

interface Workload {
  /** Nodes writes go through. */
  readonly writers: readonly NodeDriver[];
  /** Nodes reads go through. */
  readonly readers: readonly NodeDriver[];
  /** Key groups; each group gets `writersPerGroup` writers (more than one: overlapping writes). */
  readonly groups: ReadonlyArray<readonly string[]>;
  readonly writersPerGroup: number;
  readonly writesPerWriter: number;
  readonly concurrentReaders: number;
  /** Commits a version to the database every node's data source reads. */
  commit(key: string, version: number): Promise<void> | void;
  /** Longest pause between two writes of one writer, ms (0: none). */
  readonly writePauseMs?: number;
  /** Longest pause between two reads of one reader, ms (0: just yield to the event loop). */
  readonly readPauseMs?: number;
  readonly seed: number;
  /**
   * The tag each key carries (the keyspace's `tags` function gives the same): with it, a fifth of
   * the writes commit a version and then invalidate the key's tag (`deleteByTags`) instead.
   */
  readonly tagOf?: (key: string) => string;
}

const versionOf =
  (key: string) =>
  (value: Row | undefined): number | undefined =>
    value === undefined ? undefined : value.id === key ? value.version : Number.NaN;
const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs writers and readers concurrently until every writer is done; records into `history`. */
async function runWorkload(workload: Workload, history: History): Promise<void> {
  const random = seededRandom(workload.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  // Every row starts at version 0 (committed by the caller before the run).
  const latest = new Map(workload.groups.flat().map((key) => [key, 0]));
  for (const key of latest.keys()) history.initial(key, 0);
  /** Allocates the next version of `key` and commits it (versions commit in increasing order). */
  const commit = async (key: string): Promise<number> => {
    const version = latest.get(key)! + 1;
    latest.set(key, version);
    await workload.commit(key, version);
    return version;
  };

  const writer = async (group: readonly string[]): Promise<void> => {
    for (let step = 0; step < workload.writesPerWriter; step += 1) {
      const node = pick(workload.writers);
      const roll = random();
      const { tagOf } = workload;
      if (tagOf !== undefined && node.deleteByTags !== undefined && roll >= 0.6 && roll < 0.8) {
        // Cache-aside by tag: the row changes, then every entry of its tag is removed.
        const key = pick(group);
        await history.write(key, latest.get(key)! + 1, node.name, 'tags', async () => {
          await commit(key);
          await node.deleteByTags!([tagOf(key)]);
        });
      } else if (
        roll < 0.8 ||
        group.length < 2 ||
        node.putMany === undefined ||
        node.deleteMany === undefined
      ) {
        const key = pick(group);
        const put = roll < 0.4;
        await history.write(key, latest.get(key)! + 1, node.name, put ? 'put' : 'delete', async () => {
          const version = await commit(key);
          if (put) await node.put(key, { id: key, version });
          else await node.delete(key);
        });
      } else {
        const first = pick(group);
        const second = pick(group.filter((key) => key !== first));
        const keys = [first, second];
        const put = roll < 0.9;
        const entries = keys.map((key) => ({ key, version: latest.get(key)! + 1 }));
        await history.writeMany(entries, node.name, put ? 'put' : 'delete', async () => {
          const rows = await Promise.all(keys.map(async (key) => ({ id: key, version: await commit(key) })));
          if (put) await node.putMany!(rows);
          else await node.deleteMany!(keys);
        });
      }
      if (workload.writePauseMs) await sleep(random() * workload.writePauseMs);
    }
  };

  let writing = true;
  const allKeys = workload.groups.flat();
  const reader = async (): Promise<void> => {
    while (writing) {
      const node = pick(workload.readers);
      if (random() < 0.8 || node.getMany === undefined) {
        const key = pick(allKeys);
        await history.read(key, node.name, () => node.get(key), versionOf(key));
      } else {
        const keys = [...new Set([pick(allKeys), pick(allKeys), pick(allKeys)])];
        await history.readMany(
          keys,
          node.name,
          () => node.getMany!(keys),
          (key, value) => versionOf(key)(value),
        );
      }
      // Hits resolve through microtasks alone; yield so timers and sockets keep running.
      await (workload.readPauseMs ? sleep(random() * workload.readPauseMs) : tick());
    }
  };

  const readers = Array.from({ length: workload.concurrentReaders }, () => reader());
  try {
    await Promise.all(
      workload.groups.flatMap((group) =>
        Array.from({ length: workload.writersPerGroup }, () => writer(group)),
      ),
    );
  } finally {
    writing = false;
    await Promise.all(readers);
  }
}

function inProcessDriver(name: string, engine: DistCacheEngine): NodeDriver {
  return {
    name,
    get: (key) => engine.get<Row>('products', key),
    put: (key, row) => engine.put('products', key, row),
    delete: async (key) => {
      await engine.delete('products', key);
    },
    getMany: (keys) => engine.getMany<Row>('products', keys),
    putMany: (rows) =>
      engine.putMany(
        'products',
        rows.map((row) => ({ key: row.id, value: row })),
      ),
    deleteMany: async (keys) => {
      await engine.deleteMany('products', keys);
    },
    deleteByTags: (tags) => engine.deleteByTags('products', tags),
  };
}

/** The shared "database": every node's source reads it; a commit never goes back in version. */
function commitTo(databases: ReadonlyArray<Map<string, Row>>) {
  return (key: string, version: number): void => {
    for (const database of databases)
      if ((database.get(key)?.version ?? -1) < version) database.set(key, { id: key, version });
  };
}

const summaries: Record<string, unknown> = {};
afterAll(() => console.log(`consistency checker: ${JSON.stringify(summaries)}`));

function summarize(result: CheckResult, extra: Record<string, unknown> = {}) {
  return {
    reads: result.reads,
    writes: result.writes,
    failedReads: result.failedReads,
    failedWrites: result.failedWrites,
    violations: result.violations.length,
    ...extra,
  };
}

describe('the checker itself (synthetic histories)', () => {
  const write = (version: number, invokedAt: number, completedAt: number | undefined): WriteRecord => ({
    key: 'k',
    version,
    node: 'w',
    via: 'put',
    invokedAt,
    completedAt,
  });
  const read = (
    version: number | undefined,
    invokedAt: number,
    completedAt: number,
    key = 'k',
  ): ReadRecord => ({
    key,
    node: 'r',
    invokedAt,
    completedAt,
    version,
    error: undefined,
  });
  const initial: WriteRecord = { ...write(0, -Infinity, -Infinity), via: 'initial' };

  it('finds stale reads, values never written and reads from the future, and nothing else', () => {
    const writes = [initial, write(1, 10, 20), write(2, 30, 40), write(3, 50, undefined)];
    const result = checkHistory(writes, [
      read(0, 5, 6), // before any write: fine
      read(0, 15, 25), // concurrent with v1: either is fine
      read(1, 15, 25),
      read(0, 21, 22), // v1 was acknowledged at 20: stale
      read(1, 41, 45), // v2 acknowledged at 40: stale by 1 ms
      read(2, 35, 36), // v2 in flight: fine
      read(3, 55, 60), // a write that never completed may be read
      read(1, 55, 60), // ...and v2 (acknowledged) still supersedes v1
      read(undefined, 1, 2), // every row exists: "nothing" was never written
      read(7, 1, 2), // never written
      read(2, 1, 2), // v2 was invoked at 30, after this read completed
      read(2, 100, 101, 'other'), // another key, never written
    ]);
    expect(result.byKind).toEqual({ stale: 3, 'never-written': 3, future: 1 });
    expect(result.violations.filter((v) => v.kind === 'stale').map((v) => v.stalenessMs)).toEqual([1, 1, 15]);
    expect(result.maxStalenessMs).toBe(15);
    expect(describeViolations(result)).toContain('stale: r read k -> v0 in [21.0, 22.0], but v1 (put on w)');
  });

  it('allows overlapping writes to be read in either order', () => {
    // v1 and v2 overlap; both are acknowledged before the reads; either may be the last one stored.
    const writes = [initial, write(1, 10, 30), write(2, 20, 25)];
    const result = checkHistory(writes, [read(1, 40, 41), read(2, 42, 43), read(1, 44, 45)]);
    expect(result.violations).toEqual([]);
    // A third write after both makes both stale.
    const after = checkHistory([...writes, write(3, 50, 60)], [read(1, 61, 62), read(2, 61, 62)]);
    expect(after.byKind.stale).toBe(2);
  });
});

describe('randomized histories on a 3-node cluster with hot copies', () => {
  const SEEDS = Array.from({ length: 12 }, (_, index) => 1000 + index);

  it(`never serves an older version than the last acknowledged write (${SEEDS.length} seeds)`, async () => {
    const nodes = await startCluster<Row>(3, []);
    const drivers = nodes.map((node) => inProcessDriver(node.name, node.engine));
    const commit = commitTo(nodes.map((node) => node.source.data));
    const totals = { reads: 0, writes: 0, violations: 0, failedReads: 0, failedWrites: 0 };
    try {
      for (const seed of SEEDS) {
        const keys = Array.from({ length: 12 }, (_, index) => `s${seed}:k${index}`);
        for (const key of keys) commit(key, 0);
        const history = new History();
        await runWorkload(
          {
            writers: drivers,
            readers: drivers,
            groups: [keys.slice(0, 4), keys.slice(4, 8), keys.slice(8)],
            writersPerGroup: 2,
            writesPerWriter: 30,
            concurrentReaders: 6,
            commit,
            seed,
          },
          history,
        );
        const result = history.check();
        expect(result.violations, `seed ${seed}:\n${describeViolations(result)}`).toEqual([]);
        expect(result.failedReads + result.failedWrites, `seed ${seed}`).toBe(0);
        for (const field of Object.keys(totals) as Array<keyof typeof totals>)
          totals[field] += field === 'violations' ? result.violations.length : result[field];
      }
    } finally {
      await stopAll(nodes);
    }
    const stats = nodes.map((node) => node.engine.stats().keySpaces.products!);
    const hotHits = stats.reduce((sum, s) => sum + s.hotHits, 0);
    const sourceCalls = nodes.reduce((sum, node) => sum + node.source.calls.length, 0);
    summaries['in-process'] = { seeds: SEEDS.length, ...totals, hotHits, sourceCalls };
    expect(totals.reads).toBeGreaterThan(SEEDS.length * 100);
    // Hot copies were exercised, and the cluster shared data instead of asking the source.
    expect(hotHits).toBeGreaterThan(totals.reads / 10);
    expect(sourceCalls).toBeLessThan(totals.reads / 2);
  });

  it('holds with every node in its own process', async () => {
    const processes: NodeProcess[] = await startProcessCluster(3);
    try {
      const drivers: NodeDriver[] = processes.map((node) => ({
        name: node.name,
        get: (key) => node.call<Row | undefined>('get', { key }),
        put: (key, row) => node.call('put', { key, value: row }),
        delete: (key) => node.call('delete', { key }),
      }));
      const keys = Array.from({ length: 18 }, (_, index) => String(index));
      const history = new History();
      await runWorkload(
        {
          writers: drivers,
          readers: drivers,
          groups: [keys.slice(0, 6), keys.slice(6, 12), keys.slice(12)],
          writersPerGroup: 1,
          writesPerWriter: 60,
          concurrentReaders: 6,
          // Each process has its own copy of the database; a write commits to all three first.
          commit: async (key, version) => {
            if (version > 0)
              await Promise.all(
                processes.map((node) => node.call('setDatabase', { key, value: { id: key, version } })),
              );
          },
          seed: 77,
        },
        history,
      );
      const result = history.check();
      const stats = await Promise.all(processes.map((node) => node.call<{ hotHits: number }>('stats')));
      summaries['processes'] = summarize(result, { hotHits: stats.reduce((sum, s) => sum + s.hotHits, 0) });
      expect(result.violations, describeViolations(result)).toEqual([]);
      expect(result.failedReads + result.failedWrites).toBe(0);
      expect(result.reads).toBeGreaterThan(500);
    } finally {
      await killAll(processes);
    }
  });
});

describe('randomized histories with tag invalidations on a 3-node cluster', () => {
  const SEEDS = Array.from({ length: 12 }, (_, index) => 2000 + index);
  // Three tags over the keys of a seed, across the writers' groups: one deleteByTags reaches keys
  // other writers are writing at the same time.
  const tagOf = (key: string): string => `t${Number(key.slice(key.lastIndexOf('k') + 1)) % 3}`;

  it(`never serves a version older than the last acknowledged write or tag invalidation (${SEEDS.length} seeds)`, async () => {
    const nodes = await startCluster<Row>(3, [], { tags: (_row, key) => [tagOf(key)] });
    const drivers = nodes.map((node) => inProcessDriver(node.name, node.engine));
    const commit = commitTo(nodes.map((node) => node.source.data));
    const totals = { reads: 0, writes: 0, violations: 0, failedReads: 0, failedWrites: 0, tagWrites: 0 };
    try {
      for (const seed of SEEDS) {
        const keys = Array.from({ length: 12 }, (_, index) => `s${seed}:k${index}`);
        for (const key of keys) commit(key, 0);
        const history = new History();
        await runWorkload(
          {
            writers: drivers,
            readers: drivers,
            groups: [keys.slice(0, 4), keys.slice(4, 8), keys.slice(8)],
            writersPerGroup: 2,
            writesPerWriter: 30,
            concurrentReaders: 6,
            commit,
            seed,
            tagOf,
          },
          history,
        );
        const result = history.check();
        expect(result.violations, `seed ${seed}:\n${describeViolations(result)}`).toEqual([]);
        expect(result.failedReads + result.failedWrites, `seed ${seed}`).toBe(0);
        totals.reads += result.reads;
        totals.writes += result.writes;
        totals.failedReads += result.failedReads;
        totals.failedWrites += result.failedWrites;
        totals.violations += result.violations.length;
        totals.tagWrites += history.writes.filter((write) => write.via === 'tags').length;
      }
    } finally {
      await stopAll(nodes);
    }
    const stats = nodes.map((node) => node.engine.stats().keySpaces.products!);
    const hotHits = stats.reduce((sum, s) => sum + s.hotHits, 0);
    const tagInvalidations = stats.reduce((sum, s) => sum + s.tagInvalidations, 0);
    summaries['tags'] = { seeds: SEEDS.length, ...totals, hotHits, tagInvalidations };
    expect(totals.tagWrites).toBeGreaterThan(SEEDS.length * 10);
    // Every node counted every tag invalidation (its own and its peers').
    expect(tagInvalidations).toBe(3 * totals.tagWrites);
    // Hot copies were exercised (fewer than without tags: each tag invalidation drops a third of them).
    expect(hotHits).toBeGreaterThan(totals.reads / 20);
  });
});

describe('negative control: a node that invalidations cannot reach', () => {
  // Nodes a and b list only each other; c lists all three. a and b refuse c's pings (E_NOT_A_MEMBER:
  // membership is symmetric), so c cannot route to them, and their invalidations never reach it: the
  // situation of a node cut off from the writers' invalidations while it can still read. With a
  // static list c refuses to start; with a list that may change (DNS, NATS, Kubernetes) it starts
  // alone and owns every key. The checker must report stale reads on c, bounded by the keyspace
  // ttl; a and b stay consistent.
  const HOT_TTL_MS = 250;
  const TTL_MS = 1000;

  it("a node missing from its peers' static lists refuses to start, naming them", async () => {
    const ports = await freePorts(3);
    const ids = ports.map((port) => `127.0.0.1:${port}`);
    const engines = ports.map(
      (port, index) =>
        new DistCacheEngine({
          nodeName: `node-${'abc'[index]}`,
          host: '127.0.0.1',
          port,
          discovery: staticDiscovery({ peers: index === 2 ? ids : ids.slice(0, 2) }),
          clusterOptions: FAST_CLUSTER,
          keySpaces: [{ name: 'products', dataSource: async () => undefined }],
        }),
    );
    const [a, b, c] = engines as [DistCacheEngine, DistCacheEngine, DistCacheEngine];
    try {
      await Promise.all([a.start(), b.start()]);
      const error = await c.start().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(isDistCacheError(error, 'E_START_FAILED')).toBe(true);
      const cause = (error as { cause?: unknown }).cause;
      expect(isDistCacheError(cause, 'E_NOT_A_MEMBER')).toBe(true);
      expect(String((cause as Error).message)).toContain(`Add ${ids[2]} to their peers`);
      expect(a.stats().members).toBe(2);
      expect(b.stats().members).toBe(2);
    } finally {
      await Promise.all(engines.map((engine) => engine.stop()));
    }
  });

  it('catches stale reads on the cut-off node, within the hotTtl and ttl bounds', async () => {
    const ports = await freePorts(3);
    const ids = ports.map((port) => `127.0.0.1:${port}`);
    const database = new Map<string, Row>();
    const engines = ports.map(
      (port, index) =>
        new DistCacheEngine({
          nodeName: `node-${'abc'[index]}`,
          host: '127.0.0.1',
          port,
          discovery:
            index === 2
              ? { ...staticDiscovery({ peers: ids }), name: 'changing' }
              : staticDiscovery({ peers: ids.slice(0, 2) }),
          clusterOptions: { ...FAST_CLUSTER, hotTtl: HOT_TTL_MS },
          keySpaces: [
            { name: 'products', ttl: TTL_MS, dataSource: async (key: string) => database.get(key) },
          ],
        }),
    );
    const [a, b, c] = engines as [DistCacheEngine, DistCacheEngine, DistCacheEngine];
    try {
      await Promise.all(engines.map((engine) => engine.start()));
      await waitUntil(
        () => a.stats().members === 2 && b.stats().members === 2 && c.stats().members === 1,
        5000,
        'a and b together, c alone',
      );
      const driver = (engine: DistCacheEngine): NodeDriver =>
        inProcessDriver(engine.stats().nodeName, engine);
      const keys = Array.from({ length: 12 }, (_, index) => `k${index}`);
      const commit = commitTo([database]);
      for (const key of keys) commit(key, 0);
      const history = new History();
      await runWorkload(
        {
          writers: [driver(a), driver(b)],
          readers: [driver(c), driver(c), driver(c), driver(a), driver(b)],
          groups: [keys.slice(0, 6), keys.slice(6)],
          writersPerGroup: 1,
          writesPerWriter: 60,
          writePauseMs: 40,
          readPauseMs: 2,
          concurrentReaders: 6,
          commit,
          seed: 4242,
        },
        history,
      );
      const result = history.check();
      const onC = result.violations.filter((violation) => violation.read.node === 'node-c');
      const ownedByC = (key: string) => c.ownerOf('products', key) === ids[2];
      const hot = onC.filter((violation) => !ownedByC(violation.read.key));
      const owned = onC.filter((violation) => ownedByC(violation.read.key));
      const max = (list: typeof onC) => list.reduce((most, v) => Math.max(most, v.stalenessMs ?? 0), 0);
      summaries['negative control'] = summarize(result, {
        staleOnC: onC.length,
        staleHotCopies: hot.length,
        maxStalenessHotMs: Math.round(max(hot)),
        staleOwnedByC: owned.length,
        maxStalenessOwnedMs: Math.round(max(owned)),
      });
      // The checker catches it...
      expect(result.byKind.stale).toBeGreaterThan(0);
      expect(owned.length).toBeGreaterThan(0);
      // ...only stale reads, only on c (which owns every key: no hot copies), none older than the
      // ttl (plus scheduling slack); and c reports why in its peer list.
      expect(hot.length).toBe(0);
      expect(result.byKind['never-written'] + result.byKind.future).toBe(0);
      expect(onC.length).toBe(result.violations.length);
      expect(max(owned)).toBeLessThanOrEqual(TTL_MS + 250);
      expect(c.peers().filter((peer) => peer.problem?.startsWith('E_NOT_A_MEMBER'))).toHaveLength(2);
    } finally {
      await Promise.all(engines.map((engine) => engine.stop()));
    }
  });
});
