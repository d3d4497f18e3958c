import type { ClusterCoordinator, PeerRef } from './coordinator';
import { INVALIDATION_BATCH } from './missed-invalidations';
import { keyParts, requestKeyBudget } from './key-batches';
import {
  DEFAULT_WRITE_LIMITS,
  OwnerWrites,
  type WriteCall,
  WRITE_SHARE,
  type WriteLimits,
} from './owner-writes';
import { appendTo } from '../util/group';
import { DistCacheError, isDistCacheError } from '../errors/distcache-error';
import { engineStopped } from '../errors/messages';
import { type BookkeepingLedger, NO_LEDGER } from '../keyspace/bookkeeping';
import { RecentRemovals } from '../keyspace/recent-removals';
import type { KeySpace } from '../keyspace/keyspace';
import { MAX_GET_MANY_KEYS, type PeerRequest, type PeerResponse } from '../transport/transport';
import type { Deadline } from '../util/abort';
import type { Clock } from '../util/clock';
import { wireInstant } from '../transport/wire-format';

/** A validated, encoded write; `bytes` undefined removes the key. */
export interface PreparedWrite {
  readonly key: string;
  readonly bytes: Uint8Array | undefined;
  readonly expiresAt: number;
  /** The tags the entry carries; undefined for none. */
  readonly tags?: readonly string[] | undefined;
}

/**
 * Writes in a cluster: each key goes to its owner (one SET or DELETE per key, and a `deleteMany`'s
 * keys in DELETE_MANYs of bounded size, multiplexed on the owner's connection), then every other
 * node is told to drop its copies. The order matters: invalidating before the owner has the new
 * value would let a node re-fetch the old one in between.
 *
 * The requests to one owner leave in call order, and at most a share of the transport's in-flight
 * window at once ({@link WRITE_SHARE}); the others wait for a slot (`OwnerWrites`). The owner
 * applies a SET or DELETE as it reads it, so a later write of a key never overtakes an earlier one.
 */
export class ClusterWrites {
  /**
   * Keys written on this node lately, by keyspace, each once however often written: for one to
   * two `replayWindowMs` (two generations, as for the hand-off guard), within the bytes the
   * keyspace's budget allows this bookkeeping (charged to it). Past them, every key of the
   * keyspace counts as written, and a peer joining within the window clears it. Counted per write
   * (an array of writes), one key rewritten ~2,300 times/s filled an 8 MiB keyspace's share and
   * made every node that rejoined clear the keyspace.
   */
  private readonly recent = new Map<string, RecentRemovals>();

  /** The writes to each owner in flight or waiting for a slot, by owner id; only owners written to now. */
  private readonly owners = new Map<string, OwnerWrites>();
  /** Set by {@link stop}: writes to owners fail with it. */
  private stoppedWith: DistCacheError | undefined;
  /** Most requests of this node's writes in flight to one owner. */
  private readonly window: number;
  /** Most bytes of keys (counted by `requestKeyBytes`) in one DELETE_MANY. */
  private readonly deleteKeyBytes: number;

  /**
   * @param replayWindowMs how long written keys are remembered for a peer that joins: longer than
   *   two nodes can disagree on whether it is a member (the failure timeout)
   * @param limits the engine's transport and cluster options the requests keep within
   */
  constructor(
    private readonly coordinator: ClusterCoordinator,
    private readonly broadcastTimeoutMs: number,
    private readonly clock: Clock,
    private readonly replayWindowMs: number,
    private readonly ledger: BookkeepingLedger = NO_LEDGER,
    limits: WriteLimits = DEFAULT_WRITE_LIMITS,
  ) {
    this.window = Math.max(1, Math.floor(limits.maxInFlightPerPeer * WRITE_SHARE));
    this.deleteKeyBytes = requestKeyBudget(limits.maxBatchKeyBytes, limits.maxFrameBytes);
  }

  /**
   * Tells a peer that just joined to drop the keys this node wrote lately. Nodes learn of a join
   * one at a time: until this node did, its writes went to the key's previous owner and its
   * invalidations skipped the peer, while a node that knew already may have had the peer load the
   * key, an older value. Failures are ignored (the peer is pinged; if it is gone, so is its cache).
   */
  replayTo(peer: PeerRef): void {
    this.forgetOld();
    const send = (request: PeerRequest): void => {
      this.coordinator.send(peer, request, { timeoutMs: this.broadcastTimeoutMs }).catch(() => undefined);
    };
    const since = this.clock.now() - this.replayWindowMs;
    for (const [keySpace, written] of this.recent) {
      // Too many writes to list: the keyspace is cleared on the peer instead.
      if (written.allSince(since)) {
        send({ op: 'clearKeySpace', keySpace });
        continue;
      }
      const keys = [...written.keys()];
      for (let from = 0; from < keys.length; from += INVALIDATION_BATCH)
        send({ op: 'invalidate', keySpace, keys: keys.slice(from, from + INVALIDATION_BATCH) });
    }
  }

  /**
   * A peer wrote `keys` here as their owner while this node's ring names another owner for some of
   * them (the writer has not seen a join or a return yet, or detected a failure at another time):
   * the owner this node routes reads to may hold a value the write never reached (a popular key
   * this node just handed to it, a load), and the writer's own invalidation may not reach it (one
   * attempt to a peer off the writer's ring). Those keys are invalidated everywhere but at the
   * writer before the write is acknowledged (keys whose owner here is the writer need nothing: it
   * wrote them). Best effort within `budgetMs` (the writer's remaining time, at most the broadcast
   * timeout): a peer that does not acknowledge is taken off this node's ring and told before it is
   * routed to again, as for any invalidation.
   */
  async dropElsewhere(
    space: KeySpace,
    keys: readonly string[],
    writerId: string,
    budgetMs = this.broadcastTimeoutMs,
  ): Promise<void> {
    let elsewhere: string[] | undefined;
    for (const key of keys) {
      const owner = this.coordinator.ownerOf(space.name, key);
      if (owner !== undefined && owner.id !== writerId) (elsewhere ??= []).push(key);
    }
    if (elsewhere === undefined) return;
    const timeoutMs = Math.max(1, Math.min(this.broadcastTimeoutMs, budgetMs));
    await this.coordinator.invalidate(space.name, elsewhere, { timeoutMs }, writerId);
  }

  async put(space: KeySpace, writes: readonly PreparedWrite[], deadline: Deadline): Promise<void> {
    const call = this.callOf(space, deadline);
    const remote: Array<Promise<unknown>> = [];
    const targets = new Map<string, string | undefined>();
    for (const write of writes) {
      const owner = this.coordinator.ownerOf(space.name, write.key);
      targets.set(write.key, owner?.id);
      if (owner === undefined) {
        if (write.bytes === undefined) space.delete(write.key);
        else space.store(write.key, write.bytes, write.expiresAt, write.tags);
        space.noteChanged(write.key);
        space.invalidateHot(write.key);
        continue;
      }
      const request: PeerRequest =
        write.bytes === undefined
          ? { op: 'delete', keySpace: space.name, key: write.key }
          : {
              op: 'set',
              keySpace: space.name,
              key: write.key,
              value: write.bytes,
              expiresAt: Number.isFinite(write.expiresAt) ? wireInstant(write.expiresAt) : 0,
              ...(write.tags === undefined ? {} : { tags: write.tags }),
            };
      remote.push(this.sendToOwner(owner, request, space, call));
    }
    // Invalidated even when an owner failed: the other keys of a putMany were written, and a write
    // that timed out may still be applied; dropping a copy of a key that was not written costs one
    // reload at most.
    try {
      await settleAll(remote);
    } finally {
      await this.invalidateEverywhere(space, targets);
    }
  }

  /**
   * Deletes keys on their owners; resolves to how many of them an owner held. An owner of an older
   * version does not say: its keys count as removed.
   */
  async delete(space: KeySpace, keys: readonly string[], deadline: Deadline): Promise<number> {
    const call = this.callOf(space, deadline);
    const byOwner = new Map<PeerRef, string[]>();
    const targets = new Map<string, string | undefined>();
    let removed = 0;
    for (const key of keys) {
      const owner = this.coordinator.ownerOf(space.name, key);
      targets.set(key, owner?.id);
      if (owner === undefined) removed += space.delete(key) ? 1 : 0;
      else appendTo(byOwner, owner, key);
    }
    const deletes: Array<Promise<number>> = [];
    for (const [owner, ownerKeys] of byOwner) {
      for (const part of keyParts(ownerKeys, MAX_GET_MANY_KEYS, this.deleteKeyBytes))
        deletes.push(this.deleteOn(owner, part, space, call));
    }
    // As in put: the other owners' deletes happened even if one failed.
    let counts: number[];
    try {
      counts = await settleAll(deletes);
    } finally {
      await this.invalidateEverywhere(space, targets);
    }
    return counts.reduce((sum, count) => sum + count, removed);
  }

  /**
   * One DELETE_MANY of `keys` (one part of a `deleteMany`, see `keyParts`); resolves to how many
   * the owner held.
   */
  private async deleteOn(owner: PeerRef, keys: string[], space: KeySpace, call: WriteCall): Promise<number> {
    const request: PeerRequest = { op: 'deleteMany', keySpace: space.name, keys, extendedReply: true };
    let response: PeerResponse;
    try {
      response = await this.sendToOwner(owner, request, space, call);
    } catch (error) {
      // An owner without the keyspace (a rolling deploy that adds it: the owner still runs the
      // version before) holds nothing of it: the delete is done there.
      if (isDistCacheError(error, 'E_KEYSPACE_NOT_FOUND')) return 0;
      throw error;
    }
    return response.op === 'ok' && response.removed !== undefined ? response.removed : keys.length;
  }

  /**
   * Tells every reachable node to drop the entries of a keyspace (it keeps the keyspace). A node
   * of an older version answers `E_PROTOCOL` and keeps its entries; hot copies there still end
   * within `hotTtl`.
   */
  async clearKeySpace(name: string): Promise<void> {
    // A peer that misses it is told before it is routed to again (as for an invalidation).
    await this.coordinator.clearEverywhere(name, { timeoutMs: this.broadcastTimeoutMs });
  }

  /**
   * Revokes, on this node and then on every other one, the entries of `space` that carry one of
   * `tags`, owned entries and hot copies alike. Resolves once every reachable node acknowledged; a
   * listed peer that did not is told before it is routed to again (as for an invalidation).
   */
  async invalidateTags(space: KeySpace, tags: readonly string[]): Promise<void> {
    // The broadcast's own bound, not the caller's (see invalidateEverywhere).
    const options = { timeoutMs: this.broadcastTimeoutMs };
    space.invalidateTags(tags);
    await this.coordinator.invalidateTags(space.name, tags, options);
    // Twice: unlike a key, a tag has no single owner to update first. Between the moment a node
    // applied the first round and the moment an owner did, that node may have fetched a hot copy
    // of an entry the owner had not revoked yet (the consistency checker found it). Once every
    // node acknowledged the first round, no owner serves such an entry; the second round revokes
    // the copies fetched meanwhile and detaches the fetches still running.
    space.invalidateTags(tags, false);
    await this.coordinator.invalidateTags(space.name, tags, options, true);
  }

  /** Tells every reachable node to drop the keyspace. */
  async dropKeySpace(name: string): Promise<void> {
    await this.coordinator.broadcast(
      { op: 'dropKeySpace', keySpace: name },
      { timeoutMs: this.broadcastTimeoutMs },
    );
  }

  /** What bounds the requests of one `put` or `delete` call: its deadline, fixed when it starts. */
  private callOf(space: KeySpace, deadline: Deadline): WriteCall {
    const timeoutMs = deadline.timeoutMs ?? space.config.writeTimeoutMs;
    return { timeoutMs, until: this.clock.now() + timeoutMs, signal: deadline.signal };
  }

  /** The writes to `owner`, made on the first one; dropped once none is in flight or queued. */
  private writesTo(owner: PeerRef): OwnerWrites {
    const made = this.owners.get(owner.id);
    if (made !== undefined) return made;
    const writes: OwnerWrites = new OwnerWrites(owner, this.coordinator, this.clock, this.window, () => {
      if (this.owners.get(owner.id) === writes) this.owners.delete(owner.id);
    });
    this.owners.set(owner.id, writes);
    return writes;
  }

  private async sendToOwner(
    owner: PeerRef,
    request: PeerRequest,
    space: KeySpace,
    call: WriteCall,
  ): Promise<PeerResponse> {
    // Past this the write has failed for its caller (however long it waited for a slot); the owner
    // must not apply it late.
    const sent = request.op === 'set' ? { ...request, notAfter: wireInstant(call.until) } : request;
    if (this.stoppedWith !== undefined) throw this.stoppedWith;
    const response = await this.writesTo(owner).send(sent, call);
    if (response.op === 'error') {
      throw new DistCacheError(response.code, `Owner ${owner.id} refused the write: ${response.message}`, {
        details: { peer: owner.id, keySpace: space.name },
      });
    }
    return response;
  }

  /**
   * Drops this node's copies of keys it does not own, then every other node's, except on the node
   * each key was written to. A receiver drops every copy it has, its own entry included: a node
   * whose ring says it owns the key while this node's ring said otherwise (it just joined, or
   * came back) holds a value this write never reached. A listed peer that does not acknowledge
   * (unreachable, off the ring) is told before it is routed to again: the coordinator keeps what it
   * missed (docs/reliability.md, guarantee 4).
   */
  private async invalidateEverywhere(
    space: KeySpace,
    targets: ReadonlyMap<string, string | undefined>,
  ): Promise<void> {
    const at = this.clock.now();
    // Keys by the node they were written to (undefined: this node), whatever the ring says now.
    const byOwner = new Map<string | undefined, string[]>();
    for (const [key, owner] of targets) {
      if (owner !== undefined) space.delete(key);
      appendTo(byOwner, owner, key);
    }
    this.remember(space.name, targets.keys(), at);
    // Bounded by broadcastTimeout only, never by the caller's signal or timeout: a peer that does
    // not acknowledge is taken off this node's ring until it does, and a caller that stops waiting
    // (its client went away, a short timeout) says nothing about the peer. The caller's own wait is
    // bounded by the engine (waitFor); the invalidation goes on without it.
    const options = { timeoutMs: this.broadcastTimeoutMs };
    await Promise.all(
      [...byOwner].map(([owner, ownerKeys]) =>
        this.coordinator.invalidate(space.name, ownerKeys, options, owner),
      ),
    );
  }

  /** Lists `keys`, written to `keySpace` at `at`, for a peer that joins within the replay window. */
  private remember(keySpace: string, keys: Iterable<string>, at: number): void {
    let written = this.recent.get(keySpace);
    if (written === undefined) {
      written = new RecentRemovals(
        () => this.replayWindowMs,
        () => this.ledger.limit(keySpace),
        Number.POSITIVE_INFINITY,
      );
      this.recent.set(keySpace, written);
    }
    for (const key of keys) written.key(key, at);
    this.ledger.charge(keySpace, 'writes', written.bytes);
  }

  /**
   * Brings the writes listed for `keySpace` within the bytes its budget allows now (it shrank, the
   * keyspace was removed, or added again under its name): past them, the list is dropped and a
   * joining peer clears the keyspace until the window passes.
   */
  enforce(keySpace: string): void {
    const written = this.recent.get(keySpace);
    if (written === undefined) return;
    if (written.bytes > this.ledger.limit(keySpace)) written.all(this.clock.now());
    this.ledger.charge(keySpace, 'writes', written.bytes);
  }

  /** Forgets every write (the engine stopped). */
  clear(): void {
    this.recent.clear();
  }

  /**
   * The engine stops: writes waiting for a slot to their owner fail with `E_ENGINE_STOPPED` (they
   * were not sent: not applied), instead of `E_PEER_UNAVAILABLE` once the transport closed under
   * them; writes in flight end with their answer.
   */
  stop(): void {
    this.stoppedWith = engineStopped('send the write to its owner');
    for (const writes of [...this.owners.values()]) writes.stop(this.stoppedWith);
  }

  /**
   * Forgets writes older than the replay window (before a replay, and on the engine's purge timer
   * so that a node that stopped writing does not hold them; each keyspace's list also ages as its
   * keys are written).
   */
  forgetOld(): void {
    const now = this.clock.now();
    for (const [keySpace, written] of this.recent) {
      written.age(now);
      this.ledger.charge(keySpace, 'writes', written.bytes);
      if (written.size === 0 && !written.allSince(now - this.replayWindowMs)) this.recent.delete(keySpace);
    }
  }
}

/** Waits for every write; rethrows the first failure once all have settled. */
async function settleAll<R>(work: Array<Promise<R>>): Promise<R[]> {
  const outcomes = await Promise.allSettled(work);
  return outcomes.map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
}
