import type { ClusterCoordinator, PeerRef } from '../cluster/coordinator';
import { DistCacheError } from '../errors/distcache-error';
import type { KeySpace } from '../keyspace/keyspace';
import type { PeerRequest } from '../transport/transport';
import type { Deadline } from '../util/abort';

/** A validated, encoded write; `bytes` undefined removes the key. */
export interface PreparedWrite {
  readonly key: string;
  readonly bytes: Uint8Array | undefined;
  readonly expiresAt: number;
}

/**
 * Writes in a cluster: each key goes to its owner (one request per key, multiplexed on the owner's
 * connection), then every other node is told to drop its copies. The order matters: invalidating
 * before the owner has the new value would let a node re-fetch the old one in between.
 */
export class ClusterWrites {
  constructor(
    private readonly coordinator: ClusterCoordinator,
    private readonly broadcastTimeoutMs: number,
  ) {}

  async put(space: KeySpace, writes: readonly PreparedWrite[], deadline: Deadline): Promise<void> {
    const remote: Array<Promise<void>> = [];
    for (const write of writes) {
      const owner = this.coordinator.ownerOf(space.name, write.key);
      if (owner === undefined) {
        if (write.bytes === undefined) space.delete(write.key);
        else space.store(write.key, write.bytes, write.expiresAt);
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
              expiresAt: Number.isFinite(write.expiresAt) ? write.expiresAt : 0,
            };
      remote.push(this.sendToOwner(owner, request, space, deadline));
    }
    await settleAll(remote);
    await this.invalidateEverywhere(
      space,
      writes.map((write) => write.key),
      deadline,
    );
  }

  async delete(space: KeySpace, keys: readonly string[], deadline: Deadline): Promise<void> {
    const byOwner = new Map<PeerRef, string[]>();
    for (const key of keys) {
      const owner = this.coordinator.ownerOf(space.name, key);
      if (owner === undefined) space.delete(key);
      else byOwner.set(owner, [...(byOwner.get(owner) ?? []), key]);
    }
    await settleAll(
      [...byOwner].map(([owner, ownerKeys]) =>
        this.sendToOwner(owner, { op: 'deleteMany', keySpace: space.name, keys: ownerKeys }, space, deadline),
      ),
    );
    await this.invalidateEverywhere(space, keys, deadline);
  }

  /** Tells every reachable node to drop the keyspace. */
  async dropKeySpace(name: string): Promise<void> {
    await this.coordinator.broadcast(
      { op: 'dropKeySpace', keySpace: name },
      { timeoutMs: this.broadcastTimeoutMs },
    );
  }

  private async sendToOwner(owner: PeerRef, request: PeerRequest, space: KeySpace, deadline: Deadline) {
    const response = await this.coordinator.send(owner, request, {
      timeoutMs: deadline.timeoutMs ?? space.config.writeTimeoutMs,
      signal: deadline.signal,
    });
    if (response.op === 'error') {
      throw new DistCacheError(response.code, `Owner ${owner.id} refused the write: ${response.message}`, {
        details: { peer: owner.id, keySpace: space.name },
      });
    }
  }

  /**
   * Drops this node's copies of keys it does not own, then every other node's (owners keep their
   * entry). Unreachable nodes are not waited for: they serve nothing until they rejoin, and a hot
   * copy never outlives `hotTtl`.
   */
  private async invalidateEverywhere(
    space: KeySpace,
    keys: readonly string[],
    deadline: Deadline,
  ): Promise<void> {
    for (const key of keys) if (this.coordinator.ownerOf(space.name, key) !== undefined) space.delete(key);
    const timeoutMs = Math.min(this.broadcastTimeoutMs, deadline.timeoutMs ?? Infinity);
    await this.coordinator.broadcast(
      { op: 'invalidate', keySpace: space.name, keys: [...keys] },
      { timeoutMs, signal: deadline.signal },
    );
  }
}

/** Waits for every write; rethrows the first failure once all have settled. */
async function settleAll(work: Array<Promise<void>>): Promise<void> {
  const outcomes = await Promise.allSettled(work);
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
}
