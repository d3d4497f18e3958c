// Fault injection (issue 10): clusters of node processes under steady load from this process
// (gets, puts and deletes over IPC at fixed rates), while a node is killed, frozen, slowed,
// partitioned away or restarted, or the data source fails. Each test prints its figures and
// writes them to reports/faults.json; docs/reliability.md, "Fault injection", has the table, the
// guarantees and how the stale-read check works.
import { afterEach, describe, expect, it } from 'vitest';
import { OWNER_ANSWER_SLACK_MS } from '../../src/cluster/remote-loader';
import { FAST_CLUSTER } from '../support/cluster';
import { FaultCluster, type FaultClusterOptions, sleep, VersionedDatabase } from '../support/fault-cluster';
import {
  type FaultWindow,
  type Figures,
  report,
  summarize,
  unexplainedFailures,
} from '../support/fault-report';
import { LoadDriver, type LoadOptions } from '../support/load-driver';

const READ_TIMEOUT_MS = 1_000;
/**
 * The longest a read waits: the read timeout, and for a read from another node's owner the time it
 * still waits for the owner's answer (OWNER_ANSWER_SLACK_MS).
 */
const LONGEST_READ_MS = READ_TIMEOUT_MS + OWNER_ANSWER_SLACK_MS;
/** Scheduling slack on a shared 2-core machine, on top of the timeout, for one request. */
const MARGIN_MS = 300;
const HOT_TTL_MS = 2_000;
/** Longest a ring may take to converge: the failure timeout, a few ping rounds, slack. */
const convergenceBound = (failureTimeoutMs: number, pingIntervalMs: number): number =>
  failureTimeoutMs + 10 * pingIntervalMs + 1_500;
const FAST_BOUND = convergenceBound(FAST_CLUSTER.failureTimeout, FAST_CLUSTER.pingInterval);

const KEYS = Array.from({ length: 60 }, (_, index) => `k${index}`);
const LOAD: LoadOptions = { keys: KEYS, readsPerSecond: 150, writesPerSecond: 30 };
const LOAD_LABEL = `${LOAD.readsPerSecond} gets/s + ${LOAD.writesPerSecond} puts/deletes/s, ${KEYS.length} keys`;

let cluster: FaultCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

interface Run {
  cluster: FaultCluster;
  database: VersionedDatabase;
  driver: LoadDriver;
  startedAt: number;
}

async function startRun(size: number, options: Partial<FaultClusterOptions> = {}): Promise<Run> {
  const database = new VersionedDatabase(KEYS);
  cluster = await FaultCluster.start(size, database, {
    readTimeoutMs: READ_TIMEOUT_MS,
    proxy: false,
    ...options,
    clusterOptions: { ...FAST_CLUSTER, hotTtl: HOT_TTL_MS, ...options.clusterOptions },
  });
  const driver = new LoadDriver(cluster, database, LOAD);
  const startedAt = performance.now();
  driver.start();
  await sleep(1_000);
  return { cluster, database, driver, startedAt };
}

async function finish(run: Run, scenario: string, extra: Record<string, unknown>): Promise<Figures> {
  await run.driver.stop();
  const figures = summarize(run.driver.records, LONGEST_READ_MS, MARGIN_MS, run.startedAt);
  report(scenario, { load: LOAD_LABEL, ...extra, ...figures });
  return figures;
}

/** The properties every scenario holds: no stale read on a reachable node, nothing over the timeout. */
function expectBounded(figures: Figures): void {
  expect(figures.staleReads, JSON.stringify(figures.staleDetails)).toBe(0);
  expect(figures.overTimeout, `slowest ${figures.maxNodeMs} ms`).toBe(0);
}

/** Every failure overlaps a fault window and has an allowed code. */
function expectFailuresOnlyIn(run: Run, windows: readonly FaultWindow[], codes: RegExp): void {
  expect(unexplainedFailures(run.driver.records, windows, codes, run.startedAt)).toEqual([]);
}

const now = (): number => performance.now();

describe('fault injection on a cluster of node processes under load', () => {
  it('kill -9 of a node, then a restart on the same port', { timeout: 40_000 }, async () => {
    const run = await startRun(3);
    const { driver, cluster: nodes } = run;

    driver.setPhase('killed');
    driver.interrupt('c', 'killed');
    const killedAt = now();
    await nodes.kill('c');
    const dropMs = await nodes.awaitConvergence(['a', 'b'], killedAt, 10_000);
    await sleep(1_000);

    driver.setPhase('restarted');
    await nodes.restart('c');
    const restartedAt = now();
    const rejoinMs = await nodes.awaitConvergence(['a', 'b', 'c'], restartedAt, 10_000);
    driver.setPhase('after');
    await sleep(1_000);
    const figures = await finish(run, 'kill -9', {
      nodes: 3,
      convergenceMs: { drop: dropMs, rejoin: rejoinMs },
    });

    expectBounded(figures);
    // A get whose owner died is loaded by the asking node (the connection was refused or reset).
    expect(figures.failedGets).toBe(0);
    // Writes to the dead owner fail until the ring drops it.
    expectFailuresOnlyIn(run, [[killedAt, killedAt + dropMs]], /^E_PEER_UNAVAILABLE$/);
    expect(dropMs).toBeLessThan(FAST_BOUND);
    expect(rejoinMs).toBeLessThan(FAST_BOUND);
  });

  it('SIGSTOP of a node for 3 s, then SIGCONT', { timeout: 40_000 }, async () => {
    const run = await startRun(3);
    const { driver, cluster: nodes } = run;

    driver.setPhase('frozen');
    driver.cutOffFrom = (writer) => new Set(writer === 'c' ? [] : ['c']);
    driver.interrupt('c', 'frozen');
    const frozenAt = now();
    nodes.freeze('c');
    const dropMs = await nodes.awaitConvergence(['a', 'b'], frozenAt, 10_000);
    await sleep(Math.max(0, 3_000 - (now() - frozenAt)));

    driver.setPhase('thawed');
    const thawedAt = now();
    nodes.thaw('c');
    const rejoinMs = await nodes.awaitConvergence(['a', 'b', 'c'], thawedAt, 10_000);
    driver.cutOffFrom = () => new Set();
    driver.setPhase('after');
    await sleep(1_500);
    const figures = await finish(run, 'SIGSTOP 3 s', {
      nodes: 3,
      convergenceMs: { drop: dropMs, rejoin: rejoinMs },
    });

    expectBounded(figures);
    // Requests that wait on the frozen owner time out, until the ring drops it.
    expectFailuresOnlyIn(run, [[frozenAt, frozenAt + dropMs + LONGEST_READ_MS]], /^E_TIMEOUT$/);
    expect(dropMs).toBeLessThan(FAST_BOUND);
    expect(rejoinMs).toBeLessThan(FAST_BOUND);
  });

  it(
    'a slow peer: +80 ms each way, then +700 ms (a round trip over the read timeout)',
    { timeout: 40_000 },
    async () => {
      // A ping timeout over the first delay's round trip: the slow node stays a member.
      const clusterOptions = { pingInterval: 100, pingTimeout: 500, failureTimeout: 1_000 };
      const run = await startRun(3, { proxy: true, clusterOptions });
      const { driver, cluster: nodes } = run;
      const proxy = nodes.proxy!;

      driver.setPhase('slow');
      proxy.slow('c', 80);
      await sleep(1_000);
      // Requests sent in the last read timeout before the next step may end under its delay.
      driver.setPhase('slow-end');
      await sleep(LONGEST_READ_MS);
      const stillMembers = await nodes.converged(['a', 'b', 'c']);

      driver.setPhase('very-slow');
      driver.cutOffFrom = (writer) => new Set(writer === 'c' ? ['a', 'b'] : ['c']);
      const verySlowAt = now();
      proxy.slow('c', 700);
      // Pings no longer come back in time: c and {a, b} drop each other.
      const dropMs = Math.max(
        await nodes.awaitConvergenceOf(['a', 'b'], ['a', 'b'], verySlowAt, 10_000),
        await nodes.awaitConvergenceOf(['c'], ['c'], verySlowAt, 10_000),
      );
      await sleep(Math.max(0, 2_500 - (now() - verySlowAt)));

      driver.setPhase('healed');
      const healedAt = now();
      proxy.heal();
      const rejoinMs = await nodes.awaitConvergence(['a', 'b', 'c'], healedAt, 10_000);
      driver.cutOffFrom = () => new Set();
      driver.setPhase('after');
      await sleep(1_500);
      const figures = await finish(run, 'slow peer', {
        nodes: 3,
        stillMembersAt80ms: stillMembers,
        convergenceMs: { drop: dropMs, rejoin: rejoinMs },
        proxy: proxy.totals(),
      });

      expect(stillMembers).toBe(true);
      expectBounded(figures);
      // Nothing fails at +80 ms; over the read timeout requests end at it, until the split and
      // once more at the heal (requests still on the slow link). A write still in flight to the slow
      // node when it was dropped may fail at once instead: its late ping makes the others renew the
      // connection to it (E_PEER_UNAVAILABLE, as for any owner that is gone).
      expectFailuresOnlyIn(
        run,
        [[verySlowAt, healedAt + rejoinMs + LONGEST_READ_MS]],
        /^E_(TIMEOUT|PEER_UNAVAILABLE)$/,
      );
      expect(dropMs).toBeLessThan(convergenceBound(1_000, 100));
      expect(rejoinMs).toBeLessThan(convergenceBound(1_000, 100));
    },
  );

  it('a partition {a,b} | {c,d,e} for 3 s, then the heal', { timeout: 40_000 }, async () => {
    const run = await startRun(5, { proxy: true });
    const { driver, cluster: nodes } = run;
    const sides = [
      ['a', 'b'],
      ['c', 'd', 'e'],
    ];
    const otherSide = (node: string): string[] => sides.find((side) => !side.includes(node))!;

    driver.setPhase('partitioned');
    driver.cutOffFrom = (writer) => new Set(otherSide(writer));
    const partitionedAt = now();
    nodes.proxy!.partition(sides, 'stall');
    const splitMs = Math.max(
      ...(await Promise.all(
        sides.map((side) => nodes.awaitConvergenceOf(side, side, partitionedAt, 10_000)),
      )),
    );
    await sleep(Math.max(0, 3_000 - (now() - partitionedAt)));

    driver.setPhase('healed');
    const healedAt = now();
    nodes.proxy!.heal();
    const healMs = await nodes.awaitConvergence(['a', 'b', 'c', 'd', 'e'], healedAt, 10_000);
    driver.cutOffFrom = () => new Set();
    driver.setPhase('after');
    await sleep(1_500);
    const figures = await finish(run, 'partition 2|3', {
      nodes: 5,
      convergenceMs: { split: splitMs, heal: healMs },
      proxy: nodes.proxy!.totals(),
    });

    expectBounded(figures);
    // Requests to an owner on the other side time out until each side has dropped the other.
    expectFailuresOnlyIn(run, [[partitionedAt, partitionedAt + splitMs + LONGEST_READ_MS]], /^E_TIMEOUT$/);
    expect(splitMs).toBeLessThan(FAST_BOUND);
    expect(healMs).toBeLessThan(FAST_BOUND);
  });

  it('rolling restart of every node, one at a time', { timeout: 40_000 }, async () => {
    const run = await startRun(3);
    const { driver, cluster: nodes } = run;
    const rejoinMs: number[] = [];
    const leaveMs: number[] = [];
    for (const name of ['a', 'b', 'c']) {
      driver.setPhase(`restart-${name}`);
      // As a load balancer would: no new requests to the node, the ones in it finish.
      await driver.drain(nodes.node(name));
      const stoppedAt = now();
      await nodes.stop(name);
      const others = ['a', 'b', 'c'].filter((other) => other !== name);
      leaveMs.push(await nodes.awaitConvergence(others, stoppedAt, 10_000));
      await nodes.restart(name);
      const restartedAt = now();
      rejoinMs.push(await nodes.awaitConvergence(['a', 'b', 'c'], restartedAt, 10_000));
      await sleep(500);
    }
    driver.setPhase('after');
    await sleep(1_000);
    const figures = await finish(run, 'rolling restart', {
      nodes: 3,
      convergenceMs: { leave: Math.max(...leaveMs), rejoin: Math.max(...rejoinMs) },
    });

    expectBounded(figures);
    expect(figures.failures).toEqual({});
    expect(Math.max(...rejoinMs)).toBeLessThan(FAST_BOUND);
  });

  it('the data source fails for 2 s, then recovers', { timeout: 40_000 }, async () => {
    const run = await startRun(3, {
      keySpace: {
        ttl: 300,
        grace: '10s',
        circuitBreaker: { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeout: 500 },
      },
    });
    const { driver, database, cluster: nodes } = run;

    driver.setPhase('failing');
    const failingAt = now();
    database.failing = 'database down';
    await sleep(2_000);
    const during = await nodes.stats();

    driver.setPhase('recovered');
    const recoveredAt = now();
    database.failing = undefined;
    const closed = async (): Promise<boolean> =>
      Object.values(await nodes.stats()).every((stats) => stats['breaker'] === 'closed');
    let breakersClosedMs = -1;
    for (const deadline = now() + 10_000; now() < deadline; await sleep(20)) {
      if (await closed()) {
        breakersClosedMs = Math.round(now() - recoveredAt);
        break;
      }
    }
    driver.setPhase('after');
    await sleep(1_000);
    const after = await nodes.stats();
    const sum = (field: string): number =>
      Object.values(after).reduce((total, stats) => total + Number(stats[field] ?? 0), 0);
    const figures = await finish(run, 'data source down', {
      nodes: 3,
      convergenceMs: { breakersClosed: breakersClosedMs },
      staleServedWithinGrace: sum('staleHits'),
      circuitRejected: sum('circuitRejected'),
      breakersDuringOutage: Object.fromEntries(
        Object.entries(during).map(([name, stats]) => [name, stats['breaker']]),
      ),
      sourceCalls: database.totalCalls(),
      sourceCallsFailed: [...database.failedCalls.values()].reduce((a, b) => a + b, 0),
    });

    expectBounded(figures);
    // Reads of keys past their ttl get the last value within grace; cold keys fail, at once once
    // the breaker is open, until the breakers close again.
    expectFailuresOnlyIn(
      run,
      [[failingAt, recoveredAt + breakersClosedMs]],
      /^E_(DATASOURCE_FAILED|CIRCUIT_OPEN)$/,
    );
    expect(sum('staleHits')).toBeGreaterThan(0);
    expect(Object.values(during).map((stats) => stats['breaker'])).toContain('open');
    expect(breakersClosedMs).toBeGreaterThanOrEqual(0);
  });
});
