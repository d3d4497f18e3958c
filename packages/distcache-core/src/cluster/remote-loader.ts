import type { ClusterCoordinator, PeerRef } from './coordinator';
import type { Flight } from '../datasource/single-flight';
import { DistCacheError, isDistCacheError } from '../errors/distcache-error';
import type { DistCacheErrorCode } from '../errors/error-codes';
import { RemoteError } from '../errors/remote-error';
import type { CacheEntry } from '../keyspace/cache-entry';
import type { KeySpace, RemoteLoader } from '../keyspace/keyspace';
import type { PeerRequest, PeerResponse, ValueResult } from '../transport/transport';
import type { Clock } from '../util/clock';
import { fromValueResult } from './wire-entry';

/** Transport failures after which the asking node loads the key itself instead of failing. */
const FALLBACK_CODES: ReadonlySet<DistCacheErrorCode> = new Set([
  'E_PEER_UNAVAILABLE',
  'E_PROTOCOL',
  'E_TOO_MANY_REQUESTS',
]);
/** Error answers of an owner that mean "I cannot serve this" rather than "the source failed". */
const OWNER_DECLINED: ReadonlySet<DistCacheErrorCode> = new Set(['E_KEYSPACE_NOT_FOUND', 'E_ENGINE_STOPPED']);

export interface RemoteLoaderDeps {
  readonly coordinator: ClusterCoordinator;
  readonly clock: Clock;
  readonly lifetime: AbortSignal;
  readonly hotTtlMs: number;
}

/**
 * Loads keys this node does not own. The owner answers from its cache or loads once for the whole
 * cluster; the answer becomes a hot copy here. When the owner cannot be reached (connection refused,
 * reset, protocol failure) this node calls the data source itself and keeps the result only as a
 * hot copy; a timeout is not retried locally, since the read timeout is already spent.
 */
export class RemoteLoading {
  constructor(private readonly deps: RemoteLoaderDeps) {}

  /** A loader for one key owned by `owner`. */
  single<T>(space: KeySpace<T>, owner: PeerRef): RemoteLoader<T> {
    return async (key, flight) => {
      const request: PeerRequest = {
        op: 'get',
        keySpace: space.name,
        key,
        forwarded: true,
        extendedReply: true,
      };
      const answer = this.send(space, owner, request).then((response) => {
        if (response.op === 'value') return response.result;
        throw unexpected(owner, response);
      });
      return this.settle(space, key, flight, answer);
    };
  }

  /** Loaders for several keys owned by `owner`, fetched in one `getMany` request. */
  batch<T>(space: KeySpace<T>, owner: PeerRef, keys: readonly string[]): Map<string, RemoteLoader<T>> {
    const request: PeerRequest = {
      op: 'getMany',
      keySpace: space.name,
      keys: [...keys],
      forwarded: true,
      extendedReply: true,
    };
    const answers = this.send(space, owner, request).then((response) => {
      if (response.op === 'values' && response.results.length === keys.length) return response.results;
      throw unexpected(owner, response);
    });
    // Each key's loader handles the failure; this branch only keeps it from being unhandled.
    answers.catch(() => undefined);
    return new Map(
      keys.map((key, index) => [
        key,
        (k: string, flight: Flight<CacheEntry<T>>) =>
          this.settle(
            space,
            k,
            flight,
            answers.then((results) => results[index] as ValueResult),
          ),
      ]),
    );
  }

  private send<T>(space: KeySpace<T>, owner: PeerRef, request: PeerRequest): Promise<PeerResponse> {
    // No signal: stopping the engine closes the transport, which fails pending requests at once.
    return this.deps.coordinator.send(owner, request, { timeoutMs: space.config.readTimeoutMs });
  }

  private async settle<T>(
    space: KeySpace<T>,
    key: string,
    flight: Flight<CacheEntry<T>>,
    answer: Promise<ValueResult>,
  ): Promise<CacheEntry<T>> {
    let entry: CacheEntry<T>;
    try {
      entry = fromValueResult<T>(await answer);
      space.counters.peerLoads += 1;
    } catch (error) {
      if (!isDistCacheError(error) || !(FALLBACK_CODES.has(error.code) || OWNER_DECLINED.has(error.code))) {
        if (isDistCacheError(error, 'E_TIMEOUT')) space.counters.peerErrors += 1;
        throw error;
      }
      if (FALLBACK_CODES.has(error.code)) space.counters.peerErrors += 1;
      space.counters.fallbackLoads += 1;
      entry = space.toEntry(key, await space.fetchOne(key));
    }
    space.storeHot(key, entry, flight, this.deps.clock.now() + this.deps.hotTtlMs);
    return entry;
  }
}

function unexpected(owner: PeerRef, response: PeerResponse): DistCacheError {
  if (response.op === 'error') {
    // With a detail (what the owner's data source threw), the error reads as it did on the owner,
    // its cause rebuilt; an older owner sends none.
    if (response.detail !== undefined) {
      return new DistCacheError(response.code, response.message, {
        cause: new RemoteError(response.detail, owner.id),
        details: { peer: owner.id },
      });
    }
    return new DistCacheError(response.code, `Owner ${owner.id} answered: ${response.message}`, {
      details: { peer: owner.id },
    });
  }
  return new DistCacheError('E_PROTOCOL', `Owner ${owner.id} sent an unexpected "${response.op}" answer`, {
    details: { peer: owner.id },
  });
}
