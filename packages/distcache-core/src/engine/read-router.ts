import { afterHolds, type ClusterCoordinator, type PeerRef } from '../cluster/coordinator';
import type { RemoteLoading } from '../cluster/remote-loader';
import type { KeySpace, Lookup } from '../keyspace/keyspace';
import type { RemoteFlight } from '../keyspace/remote-flight';
import type { EngineProbe } from '../telemetry/engine.probe';
import { type Deadline, throwIfAborted, waitFor } from '../util/abort';
import type { Clock } from '../util/clock';
import { appendTo } from '../util/group';
import type { GetOptions } from './engine.types';

/** Turns a caller's options into its deadline (validating them): only done when a read misses. */
export interface Deadlines {
  deadline(options: GetOptions | undefined, field: string): Deadline;
}

/** The deadline of a call without options: none. */
const NO_DEADLINE: Deadline = Object.freeze({});

export interface ReadRouterDeps {
  readonly coordinator: ClusterCoordinator;
  readonly remote: RemoteLoading;
  readonly clock: Clock;
  readonly probe: EngineProbe;
}

/**
 * Where a read is answered, top to bottom (groupcache's `load()`):
 *
 * 1. **Here**: a fresh entry this node owns, or a hot copy of an entry another node owns
 *    ({@link KeySpace.lookup}, the one classification of `get` and `getMany`), once nothing holds
 *    reads back ({@link ClusterCoordinator.readHold}: right after a stall of this node).
 * 2. **The data source**, when this node owns the key: one load per key on this node
 *    (single-flight), a stale entry served within grace when the source fails
 *    ({@link KeySpace.load}, {@link KeySpace.readStale}).
 * 3. **The owner**, for a key another node owns: one read per key on this node, joined by
 *    concurrent callers ({@link KeySpace.joinRemote}); reads of one owner's keys started in the same
 *    event-loop turn travel as one request ({@link RemoteLoading}).
 * 4. **Fallback**: when the owner cannot be reached, this node loads the key itself and keeps it
 *    as a hot copy only (in {@link RemoteLoading}).
 *
 * Every call goes down the layers (keyspace, cluster); nothing calls back up.
 */
export class ReadRouter {
  constructor(private readonly deps: ReadRouterDeps) {}

  /**
   * One key. Not async (a hit resolves in one promise job). Options, when given, are checked (and
   * an aborted signal refused) before the lookup, so bad ones fail on a hit as well; a call without
   * options, the usual hit, pays nothing for them.
   */
  get<T>(
    space: KeySpace<T>,
    key: string,
    options: GetOptions | undefined,
    deadlines: Deadlines,
  ): Promise<T | undefined> {
    try {
      let bound = NO_DEADLINE;
      if (options !== undefined) {
        bound = deadlines.deadline(options, 'timeout');
        throwIfAborted(bound, `get "${space.name}/${key}"`);
      }
      // Right after a stall this node may hold copies a write replaced meanwhile: first the pull.
      const hold = this.deps.coordinator.readHold();
      if (hold !== undefined)
        return this.afterHold(hold, bound, `get "${space.name}/${key}"`, (rest) =>
          this.route(space, key, rest),
        );
      return this.route(space, key, bound);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** {@link get} once nothing holds reads back. */
  private route<T>(space: KeySpace<T>, key: string, bound: Deadline): Promise<T | undefined> {
    const owner = this.deps.coordinator.ownerOf(space.name, key);
    const found = space.lookup(key, owner === undefined);
    if (found.state === 'hit') return space.answer(key, found.entry);
    const { probe } = this.deps;
    return probe.misses
      ? probe.miss(space, space.name, key, () => this.load(space, key, found, owner, bound))
      : this.load(space, key, found, owner, bound);
  }

  /**
   * Runs `read` once `hold` settles, the whole within the caller's deadline: its timeout counts
   * from the call, and a timeout says the caller's value.
   */
  private afterHold<R>(
    hold: Promise<void>,
    bound: Deadline,
    operation: string,
    read: (inner: Deadline) => Promise<R>,
  ): Promise<R> {
    // The read keeps the signal; the timeout is the outer wait's. A caller that gave up while
    // held starts no read (no load nobody waits for).
    const inner: Deadline = bound.timeoutMs === undefined ? bound : { signal: bound.signal };
    let ended = false;
    const outcome = waitFor(
      afterHolds(hold, this.deps.coordinator).then(() => (ended ? (undefined as R) : read(inner))),
      bound,
      this.deps.clock,
      operation,
    );
    outcome.then(
      () => (ended = true),
      () => (ended = true),
    );
    return outcome;
  }

  /** A key that missed here: from the data source as its owner, or from its owner. */
  private load<T>(
    space: KeySpace<T>,
    key: string,
    found: Lookup<T>,
    owner: PeerRef | undefined,
    deadline: Deadline,
  ): Promise<T | undefined> {
    if (owner === undefined) {
      return found.state === 'stale'
        ? space.readStale(key, found.entry, deadline)
        : space.load(key, deadline);
    }
    const flight = space.joinRemote(key) ?? this.deps.remote.read(space, owner, key);
    return waitFor(
      flight.promise.then((entry) => space.readLoaded(key, entry, flight.kept)),
      deadline,
      this.deps.clock,
      `get "${space.name}/${key}"`,
    );
  }

  /**
   * Distinct, checked keys of one keyspace. Hits are read at once; this node's own missing keys load
   * in one `fetchMany` call when the source has it; each owner's missing keys go in one request
   * whose answers are decoded in one loop. The map has one entry per key, in order.
   * @throws the error of the first key (in `keys` order) that failed, once every key settled
   */
  async getMany<T>(
    space: KeySpace<T>,
    keys: readonly string[],
    options: GetOptions | undefined,
    deadlines: Deadlines,
  ): Promise<Map<string, T | undefined>> {
    const bound = deadlines.deadline(options, 'timeout');
    throwIfAborted(bound, `getMany "${space.name}"`);
    const hold = this.deps.coordinator.readHold();
    if (hold !== undefined)
      return this.afterHold(hold, bound, `getMany "${space.name}"`, (rest) =>
        this.readMany(space, keys, rest),
      );
    return this.readMany(space, keys, bound);
  }

  private async readMany<T>(
    space: KeySpace<T>,
    keys: readonly string[],
    bound: Deadline,
  ): Promise<Map<string, T | undefined>> {
    const results = new Map<string, T | undefined>();
    let local: string[] | undefined;
    let stale: Array<Lookup<T> & { key: string }> | undefined;
    let remote: Map<PeerRef, string[]> | undefined;
    const { coordinator } = this.deps;
    for (const key of keys) {
      const owner = coordinator.ownerOf(space.name, key);
      const found = space.lookup(key, owner === undefined);
      results.set(key, found.state === 'hit' ? space.read(key, found.entry) : undefined);
      if (found.state === 'stale') (stale ??= []).push({ ...found, key });
      else if (found.state === 'hit') continue;
      else if (owner === undefined) (local ??= []).push(key);
      else appendTo((remote ??= new Map<PeerRef, string[]>()), owner, key);
    }
    if (local === undefined && stale === undefined && remote === undefined) return results;
    let errors: Map<string, unknown> | undefined;
    const fail = (key: string, error: unknown): void => {
      (errors ??= new Map()).set(key, error);
    };
    const pending: Array<Promise<unknown>> = [];
    const settle = (key: string, value: Promise<T | undefined>): void => {
      pending.push(
        value.then(
          (v) => results.set(key, v),
          (error: unknown) => fail(key, error),
        ),
      );
    };
    if (local !== undefined) {
      const loads = space.loadMany(local, {});
      local.forEach((key, index) => settle(key, loads[index] as Promise<T | undefined>));
    }
    for (const { key, entry } of stale ?? [])
      if (entry !== undefined) settle(key, space.readStale(key, entry, {}));
    for (const [owner, ownerKeys] of remote ?? []) {
      const flights: Array<RemoteFlight<T>> = [];
      for (const key of ownerKeys) {
        const joined = space.joinRemote(key);
        if (joined === undefined) flights.push(space.beginRemote(key));
        else
          settle(
            key,
            joined.promise.then((entry) => space.readLoaded(key, entry, joined.kept)),
          );
      }
      if (flights.length === 0) continue;
      // One request, one promise, one decode loop for the owner's keys.
      const batch = this.deps.remote.fetch(space, owner, flights).then(() => {
        for (const flight of flights) {
          try {
            results.set(flight.key, space.readLoaded(flight.key, flight.entry(), flight.kept));
          } catch (error) {
            fail(flight.key, error);
          }
        }
      });
      pending.push(batch);
    }
    await waitFor(Promise.all(pending), bound, this.deps.clock, `getMany "${space.name}"`);
    if (errors !== undefined) for (const key of keys) if (errors.has(key)) throw errors.get(key);
    return results;
  }
}
