// Three ways a popular-key hand-off (a SET if absent from the old owner, src/cluster/warm-up.ts)
// could bring back a value a write replaced, found after CI failures of the fault suites under heavy
// load (membership-load "kill -9 and a restart", faults "a slow peer") and reproduced by looping
// them beside CPU hogs (docs/reliability.md, defects 7 to 9).
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterWrites } from '../../src/cluster/cluster-writes';
import { resolveClusterOptions } from '../../src/cluster/cluster.options';
import type { ClusterCoordinator, PeerRef } from '../../src/cluster/coordinator';
import { Membership } from '../../src/cluster/membership';
import { createPeerRequestHandler, type PeerHandlerDeps } from '../../src/cluster/peer-request.handler';
import type { PeerEvent } from '../../src/cluster/peer-event';
import { peerId, peerRef } from '../../src/cluster/peer-state';
import { WarmUp } from '../../src/cluster/warm-up';
import { staticDiscovery } from '../../src/discovery';
import { KeySpace } from '../../src/keyspace/keyspace';
import { resolveKeySpaceConfig } from '../../src/keyspace/keyspace.options';
import type { PeerRequest, PeerResponse } from '../../src/transport/transport';
import { type Clock, systemClock } from '../../src/util/clock';
import { ManualClock } from '../../src/testing/manual-clock';
import { silentLogger } from '../../src/util/logger';
import { closeAll, pong, server, transport } from '../transport/helpers';
import { FAST_CLUSTER, waitUntil } from '../support/cluster';

const from = { nodeId: 'w', address: { host: '127.0.0.1', port: 1 }, incarnation: 'x' };

function keySpace(source: () => unknown, clock: Clock = systemClock): KeySpace {
  return new KeySpace(
    resolveKeySpaceConfig({ name: 'products', dataSource: { fetch: async () => source() } }, {}, 'keySpace'),
    // As a cluster node's engine makes it (handOffGuardMs: the broadcast timeout, 1 s by default).
    {
      clock,
      lifetime: new AbortController().signal,
      hotShare: 0.25,
      readNow: () => clock.now(),
      handOffGuardMs: 1_000,
    },
  );
}

/** Node c's peer request handler over one keyspace, as the engine makes it. */
function nodeC(space: KeySpace, clock: Clock, dropElsewhere?: PeerHandlerDeps['dropElsewhere']) {
  return createPeerRequestHandler({
    nodeName: 'c',
    clock,
    maxKeyBytes: 1024,
    spaces: new Map([['products', space]]),
    accepting: () => true,
    dropKeySpace: () => undefined,
    ...(dropElsewhere === undefined ? {} : { dropElsewhere }),
  });
}

let membership: Membership | undefined;
afterEach(async () => {
  membership?.stop();
  membership = undefined;
  await closeAll();
});

describe('popular-key hand-offs', () => {
  it('a hand-off that reaches the new owner after a delete of the key does not bring the old value back', async () => {
    // Restart scenario: c rejoins; a (whose ring just took c back) reads its entry v11 of k and
    // hands it to c. Meanwhile a writer whose ring already has c deletes k (v12): c removes it,
    // then a drops its own copy on the writer's invalidation, and the delete is acknowledged. The
    // SET if absent from a, sent before, reaches c now: c held nothing, so it kept v11 and served
    // it, to its callers and as hot copies to a and b (kept hotTtl, 10 s by default), until a's
    // follow-up INVALIDATE, which reaches c only, and never when the hand-off's answer was lost.
    const clock = new ManualClock();
    const row = { id: 'k', version: 12 };
    const space = keySpace(() => row, clock);
    const handler = nodeC(space, clock);
    const serve = (request: PeerRequest) =>
      handler(request, from, new AbortController().signal, {}) as Promise<PeerResponse>;
    const handOff = (key: string, version: number, tags?: string[]): PeerRequest => ({
      op: 'set',
      keySpace: 'products',
      key,
      value: space.encode(key, { id: key, version }),
      expiresAt: 0,
      ifAbsent: true,
      notAfter: clock.now() + 5_000,
      ...(tags === undefined ? {} : { tags }),
    });
    const held = (key: string): unknown => {
      const entry = space.storage.peek(key);
      return entry === undefined ? undefined : space.read(key, entry);
    };

    expect(await serve({ op: 'delete', keySpace: 'products', key: 'k' })).toMatchObject({ op: 'ok' });
    expect(await serve(handOff('k', 11))).toEqual({ op: 'ok' });
    expect(held('k')).toBeUndefined();
    expect(await serve({ op: 'get', keySpace: 'products', key: 'k', forwarded: true })).toMatchObject({
      op: 'value',
    });
    expect(held('k')).toEqual({ id: 'k', version: 12 });

    // An invalidation (a write made elsewhere) guards the key the same way; other keys are taken.
    expect(await serve({ op: 'invalidate', keySpace: 'products', keys: ['j'] })).toEqual({ op: 'ok' });
    await serve(handOff('j', 3));
    await serve(handOff('other', 7));
    expect(held('j')).toBeUndefined();
    expect(held('other')).toEqual({ id: 'other', version: 7 });

    // So does a write: a hand-off read before it must not come back once the written value is
    // gone (expired, evicted) and the key absent again.
    const { ifAbsent: _handOff, ...write } = handOff('w', 5) as Extract<PeerRequest, { op: 'set' }>;
    expect(await serve(write)).toEqual({ op: 'ok' });
    space.storage.delete('w');
    await serve(handOff('w', 4));
    expect(held('w')).toBeUndefined();

    // A tag revocation guards every tagged hand-off (it names no key).
    expect(await serve({ op: 'invalidateTags', keySpace: 'products', tags: ['t'] })).toEqual({ op: 'ok' });
    await serve(handOff('tagged', 1, ['t']));
    expect(held('tagged')).toBeUndefined();

    // Three write timeouts plus the broadcast timeout (5 + 5 + 5 + 1 s) after the removals, a
    // hand-off read before them can no longer arrive: refused until then, taken after.
    await clock.advance(16_000);
    await serve(handOff('j', 4));
    expect(held('j')).toBeUndefined();
    await clock.advance(1);
    await serve(handOff('j', 4));
    await serve(handOff('tagged', 2, ['t']));
    expect(held('j')).toEqual({ id: 'j', version: 4 });
    expect(held('tagged')).toEqual({ id: 'tagged', version: 2 });
    // Counted on the receiver (stats, Prometheus): refused k, j, w, tagged and j again; stored
    // other, then j and tagged.
    expect(space.stats()).toMatchObject({ handOffsRefused: 5, handOffsStored: 3 });
  });

  it('a peer taken back after it missed an invalidation gets no hand-off (both sides may have written)', async () => {
    // Slow-peer scenario: c's write times out on a (broadcastTimeout), so c takes a off its ring
    // (unrepaired, not a silence: late answers keep proving a alive) and owns a's keys alone,
    // holding k0 v2. a deletes k0 (v3) as its owner; the invalidation to c is recorded in a's
    // log. At the heal c takes a back and, its ring changed, hands k0 v2 to a: a holds nothing
    // for k0 (deleted), keeps v2 and serves it to a and b with no bound (no ttl), while a's log
    // entry for c only makes c drop its own copy.
    const b = await server(pong('b'));
    const self = transport({ nodeId: 'c' });
    const selfAddress = await self.listen(pong('c'));
    const events: PeerEvent[] = [];
    membership = new Membership({
      self: peerRef(selfAddress.host, selfAddress.port),
      nodeName: 'c',
      discovery: staticDiscovery({
        peers: [selfAddress, b.address].map((address) => `${address.host}:${address.port}`),
      }),
      transport: self,
      clock: systemClock,
      logger: silentLogger,
      options: resolveClusterOptions(FAST_CLUSTER),
      onEvent: (event) => void events.push(event),
      repair: async () => true,
      isRepaired: () => true,
    });
    await membership.start();
    const peer = peerRef(b.address.host, b.address.port);
    await waitUntil(() => membership?.member(peer.id) !== undefined, 2_000, 'b to be a member');

    // A write's invalidation was not acknowledged in time (PeerCoordinator.tellEveryone).
    membership.unrepaired(peer.id);
    expect(membership.member(peer.id)).toBeUndefined();
    await waitUntil(() => membership?.member(peer.id) !== undefined, 2_000, 'b to be taken back');
    const joined = events.filter((event) => event.type === 'joined').at(-1);

    // c held k0 as owner while b was off its ring; k0 is b's again.
    const space = keySpace(() => ({ id: 'k0', version: 3 }));
    space.noteRead('k0', false);
    space.store('k0', space.encode('k0', { id: 'k0', version: 2 }), Infinity);
    const sent: unknown[] = [];
    const coordinator = {
      ownerOf: (): PeerRef => peer,
      send: async (_peer: PeerRef, request: unknown) => {
        sent.push(request);
        return { op: 'ok' };
      },
    } as unknown as ClusterCoordinator;
    const warmUp = new WarmUp({
      spaces: new Map([['products', space]]),
      maxKeyBytes: 1024,
      coordinator,
      clock: systemClock,
      logger: silentLogger,
    });
    await warmUp.warmStart();
    warmUp.scheduleRebalance(joined);
    await warmUp.rebalance();
    warmUp.stop();
    expect(sent).toEqual([]);
  });

  it('a write that reaches a node whose ring names another owner drops that owner’s copy before it is acknowledged', async () => {
    // Restart scenario, measured (c read k12 v8 < v9 four times over 1.2 s): b restarted; c took it
    // back first and handed it k12 v8. a, whose ring did not have b yet, put v9 on c (the owner on
    // a's ring) and invalidated b with one attempt, which failed (b off a's ring, its connection
    // still down): a's put was acknowledged while b served v8 to c, which kept it as a hot copy.
    // Now c, whose ring names b, invalidates k12 everywhere but at a before answering a's SET.
    const clock = new ManualClock();
    const space = keySpace(() => ({ id: 'k12', version: 9 }), clock);
    const b = peerRef('127.0.0.1', 2);
    const writerRef = peerRef('127.0.0.1', 1);
    const invalidations: Array<{ keys: readonly string[]; skip: string | undefined; timeoutMs?: number }> =
      [];
    let release = (): void => undefined;
    const coordinator = {
      // c's ring: b owns the keys starting with k1, the writer a those starting with w, c the others.
      ownerOf: (_keySpace: string, key: string) =>
        key.startsWith('k1') ? b : key.startsWith('w') ? writerRef : undefined,
      invalidate: (
        _keySpace: string,
        keys: readonly string[],
        options: { timeoutMs: number },
        skip?: string,
      ) => {
        invalidations.push({ keys: [...keys], skip, timeoutMs: options.timeoutMs });
        return new Promise<string[]>((resolve) => {
          release = () => resolve([]);
        });
      },
    } as unknown as ClusterCoordinator;
    const writes = new ClusterWrites(coordinator, 1_000, clock, 1_000);
    const handler = nodeC(space, clock, (target, keys, writerId, budgetMs) =>
      writes.dropElsewhere(target, keys, writerId, budgetMs),
    );
    const writer = { nodeId: 'a', address: { host: '127.0.0.1', port: 1 }, incarnation: 'x' };
    const serve = (request: PeerRequest) =>
      handler(request, writer, new AbortController().signal, {}) as Promise<PeerResponse>;
    const set = (key: string, version: number, ifAbsent = false): PeerRequest => ({
      op: 'set',
      keySpace: 'products',
      key,
      value: space.encode(key, { id: key, version }),
      expiresAt: 0,
      ...(ifAbsent ? { ifAbsent: true } : {}),
    });

    let answered = false;
    const answer = serve(set('k12', 9)).then((response) => {
      answered = true;
      return response;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(invalidations).toEqual([{ keys: ['k12'], skip: peerId('127.0.0.1', 1), timeoutMs: 1_000 }]);
    expect(answered).toBe(false);
    release();
    expect(await answer).toEqual({ op: 'ok' });

    // A delete of keys on both sides of the disagreement: only b's are dropped elsewhere.
    const deleted = serve({ op: 'deleteMany', keySpace: 'products', keys: ['k12', 'k2', 'k13'] });
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await deleted).toMatchObject({ op: 'ok', removed: 1 });
    expect(invalidations.at(-1)).toMatchObject({ keys: ['k12', 'k13'], skip: peerId('127.0.0.1', 1) });

    // Within the writer's deadline: a SET with 300 ms left waits at most that long.
    const late = serve({ ...set('k15', 2), notAfter: clock.now() + 300 } as PeerRequest);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await late).toEqual({ op: 'ok' });
    expect(invalidations.at(-1)).toMatchObject({ keys: ['k15'], timeoutMs: 300 });

    // A key this node owns, one the writer owns on this ring (it wrote it), and a hand-off (a SET if
    // absent) drop nothing elsewhere.
    const count = invalidations.length;
    expect(await serve(set('k2', 1))).toEqual({ op: 'ok' });
    expect(await serve(set('w1', 1))).toEqual({ op: 'ok' });
    expect(await serve(set('k14', 1, true))).toEqual({ op: 'ok' });
    expect(invalidations).toHaveLength(count);
  });
});
