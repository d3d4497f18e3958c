import { afterEach, describe, expect, it } from 'vitest';
import { staticDiscovery } from '../discovery/static.discovery';
import { resolveClusterOptions } from './cluster.options';
import { afterHolds } from './coordinator';
import { PeerCoordinator } from './peer.coordinator';
import { ManualClock } from '../testing/manual-clock';
import type { PeerAddress, PeerRequest, PeerResponse, PeerTransport } from '../transport/transport';
import { silentLogger } from '../util/logger';

/** A clock whose time can pass with no timer firing: a stalled event loop. */
class StallingClock extends ManualClock {
  stall(ms: number): void {
    (this as unknown as { time: number }).time += ms;
  }
}

/**
 * How a peer answers: SYNC at once, or never (`silent`: the request times out); `dead` answers
 * nothing at all (pings included) and cannot be probed.
 */
type SyncMode = 'answers' | 'silent' | 'dead';

/**
 * Node a of a three-node cluster (a, b, c) over a transport that answers pings at once and SYNCs
 * as each peer's mode says, and records every SYNC sent. The coordinator, its membership and its
 * loop-punctuality timer are the real ones, on a manual clock.
 */
async function nodeA(modes: Record<'b' | 'c', SyncMode>) {
  const clock = new StallingClock();
  const syncs: Array<{ peer: string; at: number }> = [];
  const heard = new Map<string, number>();
  const never = (timeoutMs: number): Promise<PeerResponse> =>
    new Promise((_resolve, reject) => clock.setTimeout(() => reject(new Error('timed out')), timeoutMs));
  const transport: PeerTransport = {
    listen: () => Promise.resolve({ host: '127.0.0.1', port: 1 }),
    request: (peer: PeerAddress, request: PeerRequest, options): Promise<PeerResponse> => {
      const name = peer.port === 2 ? 'b' : 'c';
      if (request.op === 'sync') syncs.push({ peer: name, at: clock.now() });
      if (modes[name] === 'dead') return never(options.timeoutMs);
      heard.set(name, clock.now());
      if (request.op === 'ping') return Promise.resolve({ op: 'pong', nodeId: name });
      if (request.op === 'probe')
        return Promise.resolve({ op: 'error', code: 'E_PEER_UNAVAILABLE', message: 'no answer' });
      if (request.op !== 'sync' || modes[name] === 'answers') return Promise.resolve({ op: 'ok' });
      return never(options.timeoutMs);
    },
    lastHeardFrom: (peer: PeerAddress) => heard.get(peer.port === 2 ? 'b' : 'c'),
    close: () => Promise.resolve(),
  };
  const coordinator = new PeerCoordinator({
    nodeName: 'a',
    bind: { host: '127.0.0.1', port: 1 },
    advertiseHost: '127.0.0.1',
    discovery: staticDiscovery({ peers: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'] }),
    createTransport: () => transport,
    clock,
    turnClock: clock,
    logger: silentLogger,
    // Defaults: ping every 500 ms, timeout 1 s; failure 3 s; broadcast 1 s.
    options: resolveClusterOptions({}),
    maxFrameBytes: 1 << 20,
    onEvent: () => undefined,
  });
  await coordinator.start(async () => ({ op: 'ok' }), new AbortController().signal);
  stopping = coordinator;
  expect(coordinator.members()).toHaveLength(3);
  /** Whether `hold` has settled once pending callbacks ran. */
  const released = async (hold: Promise<void> | undefined): Promise<boolean> => {
    if (hold === undefined) return true;
    let done = false;
    void hold.then(() => (done = true));
    await clock.advance(0);
    return done;
  };
  return { clock, coordinator, syncs, released, heard };
}

/** {@link nodeA} once c stopped answering anything and left its ring (failure timeout, probes). */
async function nodeAWithoutC() {
  const modes: Record<'b' | 'c', SyncMode> = { b: 'answers', c: 'answers' };
  const node = await nodeA(modes);
  modes.c = 'dead';
  await node.clock.advance(8_000);
  return { ...node, modes };
}

let stopping: PeerCoordinator | undefined;
afterEach(async () => {
  await stopping?.stop();
  stopping = undefined;
});

describe('PeerCoordinator.readHold, after a stall of this node', () => {
  it('holds nothing in calm, and after a short stall', async () => {
    const { clock, coordinator, syncs } = await nodeA({ b: 'answers', c: 'answers' });
    await clock.advance(2_000);
    expect(coordinator.readHold()).toBeUndefined();
    clock.stall(700); // under the broadcast timeout: no write gave up on this node
    expect(coordinator.readHold()).toBeUndefined();
    await clock.advance(1_000);
    expect(syncs).toEqual([]);
  });

  it('the first read after a stall, before any timer ran, waits for the pull from every peer', async () => {
    const { clock, coordinator, syncs, released } = await nodeA({ b: 'answers', c: 'answers' });
    await clock.advance(1_000);
    clock.stall(1_500);
    const woke = clock.now();
    const hold = coordinator.readHold();
    expect(hold).toBeDefined();
    expect(syncs).toEqual([
      { peer: 'b', at: woke },
      { peer: 'c', at: woke },
    ]);
    expect(await released(hold)).toBe(true);
    expect(coordinator.readHold()).toBeUndefined();
    // The late tick and the ping timer that follow do not pull again for the same stall.
    await clock.advance(1_000);
    expect(syncs).toHaveLength(2);
  });

  it('a second stall right after the first stall’s pull, before any tick ran again, is pulled for again', async () => {
    // Only a pull of every peer started after a stall ended covers it (a pull started between the
    // last tick and the stall was once taken as covering it; a heal's pull of one peer never does).
    const { clock, coordinator, syncs, released } = await nodeA({ b: 'answers', c: 'answers' });
    await clock.advance(1_000); // a tick
    clock.stall(1_500);
    expect(await released(coordinator.readHold())).toBe(true); // a pull, answered at once
    expect(syncs).toHaveLength(2);
    clock.stall(2_010); // 10 ms later, the loop stalls once more
    const hold = coordinator.readHold();
    expect(hold).toBeDefined();
    expect(syncs).toHaveLength(4);
    expect(await released(hold)).toBe(true);
  });

  it('waits at most half a ping timeout for a peer that does not answer', async () => {
    const { clock, coordinator, released } = await nodeA({ b: 'answers', c: 'silent' });
    await clock.advance(1_000);
    clock.stall(1_500);
    const hold = coordinator.readHold();
    expect(await released(hold)).toBe(false);
    await clock.advance(499);
    expect(await released(hold)).toBe(false);
    await clock.advance(1);
    expect(await released(hold)).toBe(true);
    expect(coordinator.readHold()).toBeUndefined();
  });

  it('a second stall while a pull still waits on a silent peer sends a new round at once and holds reads again', async () => {
    const { clock, coordinator, syncs, released } = await nodeA({ b: 'answers', c: 'silent' });
    await clock.advance(1_000);
    clock.stall(1_500);
    expect(coordinator.readHold()).toBeDefined();
    await clock.advance(600); // the hold's bound passed; c's SYNC is still open (up to 2 s)
    expect(coordinator.readHold()).toBeUndefined();
    clock.stall(1_500); // b may have written without this node meanwhile
    const woke = clock.now();
    const hold = coordinator.readHold();
    expect(hold).toBeDefined();
    expect(syncs.filter((sync) => sync.at === woke).map((sync) => sync.peer)).toEqual(['b', 'c']);
    expect(await released(hold)).toBe(false); // a fresh bound, not the first round's
    await clock.advance(500);
    expect(await released(hold)).toBe(true);
  });

  it('a second stall within the first hold: the first bound does not release reads held for the second', async () => {
    const { clock, coordinator, syncs, released } = await nodeA({ b: 'answers', c: 'silent' });
    await clock.advance(1_000);
    clock.stall(1_500);
    expect(coordinator.readHold()).toBeDefined();
    await clock.advance(100);
    clock.stall(1_500);
    const hold = coordinator.readHold();
    expect(hold).toBeDefined();
    expect(syncs).toHaveLength(4);
    // The first round's overdue bound fires now; reads of the second wait for their own.
    expect(await released(hold)).toBe(false);
    await clock.advance(500);
    expect(await released(hold)).toBe(true);
  });

  it('reads already waiting when a second stall starts a new round wait for that round too', async () => {
    const { clock, coordinator, released } = await nodeA({ b: 'answers', c: 'silent' });
    await clock.advance(1_000);
    clock.stall(1_500);
    const first = coordinator.readHold();
    expect(first).toBeDefined();
    const waiting = afterHolds(first as Promise<void>, coordinator);
    await clock.advance(100);
    clock.stall(1_500); // the late tick starts a new round; the first hold's bound is overdue
    expect(await released(waiting)).toBe(false);
    await clock.advance(500);
    expect(await released(waiting)).toBe(true);
  });

  it('a stall of just over the broadcast timeout that the late tick sees as less is pulled for', async () => {
    // The tick's lateness misses the part of a stall before its due time: 1,005 ms from 90 ms after
    // a tick made the next one 995 ms late, under the threshold, while a writer gave up after 1 s.
    const { clock, syncs } = await nodeA({ b: 'answers', c: 'answers' });
    await clock.advance(1_000); // a tick ran at the end of this
    await clock.advance(90);
    clock.stall(1_005);
    await clock.advance(0); // timers first, as after SIGSTOP: the late tick
    expect(syncs).toHaveLength(2);
  });

  it('does not hold reads for a listed peer that left the ring silent (a dead node in a static list)', async () => {
    const { clock, coordinator, syncs, released } = await nodeAWithoutC();
    expect(coordinator.members()).toHaveLength(2);
    clock.stall(1_500);
    const woke = clock.now();
    const hold = coordinator.readHold();
    expect(hold).toBeDefined();
    // c is asked all the same (it may come back), but reads wait only for b.
    expect(syncs.filter((sync) => sync.at === woke).map((sync) => sync.peer)).toEqual(['b', 'c']);
    expect(await released(hold)).toBe(true);
  });

  it('a peer back from a silence while a stall’s pull still runs is asked again', async () => {
    // It was: the heal joined the running pull, whose SYNC to that peer had gone out while it was
    // down, and the peer came back on the ring with nothing pulled from it.
    const { clock, coordinator, syncs, modes } = await nodeAWithoutC();
    expect(coordinator.members()).toHaveLength(2);
    clock.stall(1_500);
    expect(coordinator.readHold()).toBeDefined(); // the stall's pull: c's SYNC waits up to 2 s
    await clock.advance(50);
    modes.c = 'answers';
    const back = clock.now();
    await clock.advance(600); // a ping reaches c: it is back
    expect(syncs.filter((sync) => sync.peer === 'c' && sync.at >= back)).toHaveLength(1);
    expect(coordinator.members()).toHaveLength(3);
  });

  it('a silent peer that resumed during this node’s stall is waited for, once its input is read', async () => {
    const { clock, coordinator, released, heard } = await nodeAWithoutC();
    clock.stall(1_500);
    const hold = coordinator.readHold();
    // c resumed during the stall: its bytes are read in this loop turn (its SYNC, sent before, is lost).
    heard.set('c', clock.now());
    expect(await released(hold)).toBe(false);
    await clock.advance(500);
    expect(await released(hold)).toBe(true);
  });

  it('pulls once for a stall, whatever the number of callbacks that read before the late tick runs', async () => {
    // Each callback of the poll phase after a stall sees the loop as away until the tick runs: it
    // was one pull of every peer per callback (19 in a fuzzing run of 6 s).
    const { clock, coordinator, syncs } = await nodeA({ b: 'answers', c: 'answers' });
    await clock.advance(1_000);
    clock.stall(1_500);
    for (let callback = 0; callback < 20; callback++) {
      void coordinator.readHold();
      clock.stall(2); // the next callback, a couple of milliseconds later, timers not run yet
    }
    expect(syncs).toHaveLength(2);
    await clock.advance(1_000);
    expect(syncs).toHaveLength(2);
  });
});
