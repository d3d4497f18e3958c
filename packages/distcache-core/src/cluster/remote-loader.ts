import type { ClusterCoordinator, PeerRef } from './coordinator';
import { DistCacheError, isDistCacheError } from '../errors/distcache-error';
import type { DistCacheErrorCode } from '../errors/error-codes';
import { RemoteError } from '../errors/remote-error';
import type { CacheEntry } from '../keyspace/cache-entry';
import type { KeySpace } from '../keyspace/keyspace';
import type { RemoteFlight } from '../keyspace/remote-flight';
import type { KeyResult, PeerRequest, PeerResponse, ValueResult } from '../transport/transport';
import type { Clock } from '../util/clock';
import { keyParts } from './key-batches';
import { fromValueResult } from './wire-entry';
import { ChurnTable } from '../util/churn-table';

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
  readonly hotTtlMs: number;
  /**
   * Most keys in one GET_MANY to an owner; more go in several requests. It bounds the work one
   * request asks of the owner (its loads run in parallel) and the size of the answer
   * (`clusterOptions.maxBatchKeys`).
   */
  readonly maxBatchKeys: number;
  /**
   * Most UTF-8 bytes of keys in one GET_MANY, counted at 3 bytes per UTF-16 unit, an upper bound
   * (`clusterOptions.maxBatchKeyBytes`). An answer over the requester's frame limit is split on the
   * way back (see {@link RemoteLoading.fetch}).
   */
  readonly maxBatchKeyBytes: number;
}

/** How the rest of a split turn is sent again when refused for the in-flight limit. */
interface Retry {
  /** Settles once the first request of the turn is answered (or failed). */
  readonly after: Promise<void>;
  /** Clock time the turn's reads time out: the first request's send plus the read timeout. */
  readonly deadline: number;
}

/** Reads queued for one owner and keyspace in this event-loop turn. */
interface Queued {
  readonly space: KeySpace<unknown>;
  readonly owner: PeerRef;
  readonly flights: Array<RemoteFlight<unknown>>;
}

/**
 * Reads keys this node does not own from their owners. The owner answers from its cache or loads
 * once for the whole cluster; the answer becomes a hot copy here. Reads of one owner's keys (same
 * keyspace) started in one event-loop turn travel as one GET_MANY; one alone goes as a GET. When
 * the owner cannot be reached (connection refused, reset, protocol failure, too many requests) this
 * node calls the data source itself for each key and keeps the result only as a hot copy; a timeout
 * is not retried locally, since the read timeout is already spent. Per key, a batched read ends
 * exactly as a read sent alone would.
 */
export class RemoteLoading {
  /** This turn's batches; a handful at most (one per owner and keyspace read), so a list. */
  private queued: Queued[] = [];
  /** Requests sent to each owner (by node id) and not answered yet. */
  private readonly unanswered = new ChurnTable<string, number>();
  private readonly flush = (): void => {
    const batches = this.queued;
    this.queued = [];
    for (const { space, owner, flights } of batches) {
      // Gets batched by the turn: keys the owner holds are answered without waiting for its loads.
      if (flights.length < MIN_SPLIT_KEYS || this.unanswered.has(owner.id)) {
        void this.fetch(space, owner, flights, true);
        continue;
      }
      // No read of this node's is on its way to or from this owner: the first request takes half
      // the turn's reads (at most maxBatchKeys) and the rest follow, so that this node decodes the
      // first answer while the owner works on the rest (the owner writes the answer to the first
      // request of a socket read before it starts the others). Otherwise the two nodes take turns:
      // all the gets of a turn, one answer, all the gets of the next. The rest is one request more
      // in flight to the owner than the turn needed: refused for that (E_TOO_MANY_REQUESTS, this
      // node's maxInFlightPerPeer or the owner's), it is sent again once the first is answered,
      // within the turn's read timeout, not loaded here.
      const middle = Math.min(Math.ceil(flights.length / 2), this.deps.maxBatchKeys);
      let answered!: () => void;
      const after = new Promise<void>((resolve) => (answered = resolve));
      const deadline = this.deps.clock.now() + space.config.readTimeoutMs;
      void this.fetch(space, owner, flights.slice(0, middle), true, undefined, answered);
      void this.fetch(space, owner, flights.slice(middle), true, { after, deadline });
    }
  };

  constructor(private readonly deps: RemoteLoaderDeps) {}

  /**
   * Opens the read of `key` from `owner` and queues it: every read queued in this event-loop turn
   * for the same owner and keyspace goes in one request, sent once the turn's callbacks ran.
   */
  read<T>(space: KeySpace<T>, owner: PeerRef, key: string): RemoteFlight<T> {
    const flight = space.beginRemote(key);
    const batches = this.queued;
    for (const batch of batches) {
      if (batch.space === space && batch.owner.id === owner.id) {
        batch.flights.push(flight as RemoteFlight<unknown>);
        return flight;
      }
    }
    // After the promise jobs of this turn: the callers a batch of answers woke up ask again first.
    if (batches.length === 0) process.nextTick(this.flush);
    batches.push({ space: space as KeySpace<unknown>, owner, flights: [flight as RemoteFlight<unknown>] });
    return flight;
  }

  /**
   * Sends the reads of `flights` (keys `owner` owns) now, in as few requests as the limits allow,
   * and settles each flight. Resolves once every flight is settled; never rejects (a key's error
   * settles its flight).
   */
  async fetch<T>(
    space: KeySpace<T>,
    owner: PeerRef,
    flights: ReadonlyArray<RemoteFlight<T>>,
    /** Separate callers' gets: none waits for another key's load on the owner (PARTIAL). */
    partial = false,
    /** When given, a request refused for the in-flight limit is sent again (see {@link Retry}). */
    retry?: Retry,
    /** Called when the owner's answer (or a failure) to a request of these reads is in. */
    onAnswered?: () => void,
  ): Promise<void> {
    const { maxBatchKeys, maxBatchKeyBytes } = this.deps;
    const parts = keyParts(flights, maxBatchKeys, maxBatchKeyBytes, (flight) => flight.key);
    // A caller's getMany (not partial) already holds its batch: its last request is written at once,
    // with the ones before it (see `sendNow` in request()).
    const now = !partial;
    const last = parts.length - 1;
    if (last === 0) return this.request(space, owner, flights, partial, retry, onAnswered, undefined, now);
    await Promise.all(
      parts.map((part, index) =>
        this.request(space, owner, part, partial, retry, onAnswered, undefined, index === last && now),
      ),
    );
  }

  /** One request for `flights`: a GET for one key, a GET_MANY for several. */
  private async request<T>(
    space: KeySpace<T>,
    owner: PeerRef,
    flights: ReadonlyArray<RemoteFlight<T>>,
    partial = false,
    retry?: Retry,
    onAnswered?: () => void,
    /**
     * Clock time by which the reads must be answered: the turn's read timeout from now for a first
     * request; what is left of it for a follow-up (keys the owner answered as pending, halves, one
     * by one), so that no read of a turn outlives its read timeout.
     */
    deadline = this.deps.clock.now() + space.config.readTimeoutMs,
    /**
     * Written to the socket at once, with the requests queued before it, rather than at the end of
     * the tick: for a caller's getMany, whose request left to the end of the tick waited behind the
     * decoding of every answer that arrived with the one that started it while the owners sat idle
     * (bench/README.md, "A getMany's requests written at once"). A turn's gets are sent once the
     * turn's callbacks ran, together; follow-ups (keys answered pending, halves, a refused rest)
     * go with the rest of their tick.
     */
    sendNow = false,
  ): Promise<void> {
    if (flights.length === 0) return;
    const timeoutMs = deadline - this.deps.clock.now();
    if (timeoutMs <= 0) {
      onAnswered?.();
      const late = new DistCacheError(
        'E_TIMEOUT',
        'the read timeout passed before the request could be sent',
      );
      return this.failAll(space, flights, ownerTimeout(owner, space, late));
    }
    const single = flights.length === 1;
    // tagsReply: a hot copy keeps the value's tags, so a deleteByTags reaches it.
    const request: PeerRequest = single
      ? {
          op: 'get',
          keySpace: space.name,
          key: (flights[0] as RemoteFlight<T>).key,
          forwarded: true,
          extendedReply: true,
          tagsReply: true,
        }
      : {
          op: 'getMany',
          keySpace: space.name,
          keys: flights.map((flight) => flight.key),
          forwarded: true,
          extendedReply: true,
          keyErrors: true,
          tagsReply: true,
          partial,
        };
    let response: PeerResponse;
    this.countUnanswered(owner.id, 1);
    try {
      // No signal: stopping the engine closes the transport, which fails pending requests at once.
      // The owner bounds its load by the same read timeout and answers E_DATASOURCE_TIMEOUT when
      // it passes; the slack lets that answer arrive, so callers on every node get the same code.
      const waitMs = timeoutMs + OWNER_ANSWER_SLACK_MS;
      response = await this.deps.coordinator.send(owner, request, { timeoutMs: waitMs, sendNow });
    } catch (error) {
      this.countUnanswered(owner.id, -1);
      onAnswered?.();
      if (retry !== undefined && isDistCacheError(error, 'E_TOO_MANY_REQUESTS'))
        return this.sendAgain(space, owner, flights, partial, retry);
      // A request or an answer over a frame limit: halves may fit.
      if (!single && isDistCacheError(error, 'E_PROTOCOL'))
        return this.halves(space, owner, flights, partial, deadline);
      return this.failAll(
        space,
        flights,
        isDistCacheError(error, 'E_TIMEOUT') ? ownerTimeout(owner, space, error) : error,
      );
    }
    this.countUnanswered(owner.id, -1);
    onAnswered?.();
    if (retry !== undefined && response.op === 'error' && response.code === 'E_TOO_MANY_REQUESTS')
      return this.sendAgain(space, owner, flights, partial, retry);
    if (single && response.op === 'value') {
      return this.settle(space, flights[0] as RemoteFlight<T>, response.result, this.deps.clock.now());
    }
    if (!single && response.op === 'values' && response.results.length === flights.length) {
      return this.settleAll(space, owner, flights, response.results, deadline);
    }
    const error = unexpected(owner, response);
    if (single) return this.settle(space, flights[0] as RemoteFlight<T>, error, 0);
    // A malformed answer (another op, a wrong count): asking the same owner again would not help;
    // each key is loaded here, as after any protocol failure.
    if (response.op !== 'error') return this.failAll(space, flights, error);
    // The owner refused to send an answer over this node's frame limit: halves may fit.
    if (error.code === 'E_PROTOCOL') return this.halves(space, owner, flights, partial, deadline);
    if (FALLBACK_CODES.has(error.code) || OWNER_DECLINED.has(error.code))
      return this.failAll(space, flights, error);
    // One ERROR for the whole batch: an owner that predates per-key errors, telling about one key.
    // Asked one by one, each key gets its own answer (the others are cached there by now).
    await Promise.all(
      flights.map((flight) => this.request(space, owner, [flight], false, undefined, undefined, deadline)),
    );
  }

  /**
   * The rest of a split turn, refused for the in-flight limit: sent again once the first request is
   * answered (its slot is then free), within what is left of the turn's read timeout.
   */
  private async sendAgain<T>(
    space: KeySpace<T>,
    owner: PeerRef,
    flights: ReadonlyArray<RemoteFlight<T>>,
    partial: boolean,
    { after, deadline }: Retry,
  ): Promise<void> {
    await after;
    return this.request(space, owner, flights, partial, undefined, undefined, deadline);
  }

  private countUnanswered(owner: string, change: 1 | -1): void {
    const count = (this.unanswered.get(owner) ?? 0) + change;
    if (count > 0) this.unanswered.set(owner, count);
    else this.unanswered.delete(owner);
  }

  private async halves<T>(
    space: KeySpace<T>,
    owner: PeerRef,
    flights: ReadonlyArray<RemoteFlight<T>>,
    partial: boolean,
    deadline: number,
  ): Promise<void> {
    const middle = Math.ceil(flights.length / 2);
    await Promise.all([
      this.request(space, owner, flights.slice(0, middle), partial, undefined, undefined, deadline),
      this.request(space, owner, flights.slice(middle), partial, undefined, undefined, deadline),
    ]);
  }

  /**
   * The answers of a GET_MANY, settled in one loop; only fallbacks and keys still loading on the
   * owner (asked for again, each with a GET that joins the owner's load) leave work to wait for.
   */
  private settleAll<T>(
    space: KeySpace<T>,
    owner: PeerRef,
    flights: ReadonlyArray<RemoteFlight<T>>,
    results: readonly KeyResult[],
    deadline: number,
  ): Promise<void> | undefined {
    const now = this.deps.clock.now();
    let fallbacks: Array<Promise<void>> | undefined;
    for (let i = 0; i < flights.length; i++) {
      const result = results[i] as KeyResult;
      if (result.found === 'pending') {
        // Asked again alone (a GET joins the owner's load), within what is left of the timeout.
        const flight = flights[i] as RemoteFlight<T>;
        (fallbacks ??= []).push(this.request(space, owner, [flight], false, undefined, undefined, deadline));
        continue;
      }
      const outcome =
        result.found === 'error'
          ? unexpected(owner, {
              op: 'error',
              code: result.code,
              message: result.message,
              detail: result.detail,
            })
          : result;
      const pending = this.settle(space, flights[i] as RemoteFlight<T>, outcome, now);
      if (pending !== undefined) (fallbacks ??= []).push(pending);
    }
    return fallbacks === undefined ? undefined : Promise.all(fallbacks).then(() => undefined);
  }

  private failAll<T>(
    space: KeySpace<T>,
    flights: ReadonlyArray<RemoteFlight<T>>,
    error: unknown,
  ): Promise<void> {
    const fallbacks: Array<Promise<void>> = [];
    for (const flight of flights) {
      const pending = this.settle(space, flight, error, 0);
      if (pending !== undefined) fallbacks.push(pending);
    }
    return Promise.all(fallbacks).then(() => undefined);
  }

  /**
   * Settles one key's read with the owner's answer, or with `error`: a fallback load for the
   * failures in FALLBACK_CODES and OWNER_DECLINED (returned, to wait for), the error otherwise.
   */
  private settle<T>(
    space: KeySpace<T>,
    flight: RemoteFlight<T>,
    outcome: unknown,
    now: number,
  ): Promise<void> | undefined {
    let error = outcome;
    if (isValueResult(outcome)) {
      let entry: CacheEntry<T> | undefined;
      try {
        entry = fromValueResult<T>(outcome);
      } catch (malformed) {
        // Tags over the limits: an answer this node does not keep; loaded here instead, as for
        // any protocol failure.
        error = malformed;
      }
      if (entry !== undefined) {
        space.countPeerLoad();
        this.keep(space, flight, entry, now);
        return undefined;
      }
    }
    if (!isDistCacheError(error) || !(FALLBACK_CODES.has(error.code) || OWNER_DECLINED.has(error.code))) {
      if (isDistCacheError(error, 'E_TIMEOUT')) space.countPeerError();
      flight.reject(error);
      return undefined;
    }
    if (FALLBACK_CODES.has(error.code)) space.countPeerError();
    space.countFallbackLoad();
    const key = flight.key;
    return space.fetchOne(key).then(
      (value) => {
        try {
          this.keep(space, flight, space.toEntry(key, value), this.deps.clock.now());
        } catch (failure) {
          flight.reject(failure);
        }
      },
      (failure: unknown) => flight.reject(failure),
    );
  }

  /** Keeps `entry` as a hot copy (unless the key was invalidated meanwhile) and settles the flight. */
  private keep<T>(space: KeySpace<T>, flight: RemoteFlight<T>, entry: CacheEntry<T>, now: number): void {
    const kept = space.storeHot(flight.key, entry, flight, now + this.deps.hotTtlMs);
    // The kept copy is what callers read: decoded once there, its next hit decodes nothing.
    if (kept === undefined) flight.resolve(entry);
    else flight.resolve(kept, true);
  }
}

function isValueResult(outcome: unknown): outcome is ValueResult {
  return (
    typeof outcome === 'object' &&
    outcome !== null &&
    !(outcome instanceof Error) &&
    typeof (outcome as { found?: unknown }).found === 'boolean'
  );
}

/**
 * Fewest gets of one turn that are split over two requests when none of this node's reads of their
 * owner is unanswered (see {@link RemoteLoading}'s flush). Chosen, not tuned: halves of one key
 * would overlap one decode (~7 µs for a 1 KB value) with the cost of an extra request and write;
 * the measured gain is at 16 and 128 in flight (bench/README.md, "Issue 18, fifth session").
 */
const MIN_SPLIT_KEYS = 4;

/**
 * How long after the read timeout a node still waits for the owner's answer. The owner's load of
 * the key starts when the request arrives and ends at the same read timeout with
 * `E_DATASOURCE_TIMEOUT`, which it answers: without the slack this side's timer, started earlier,
 * fired first, and a slow data source failed with `E_DATASOURCE_TIMEOUT` on the owner but
 * `E_TIMEOUT` everywhere else (12 of 13 reads of an outside test). It covers the request's and
 * the answer's way and both event loops' lag; an owner later than that is itself the problem, and
 * the read fails with `E_TIMEOUT` naming it. A caller's own `timeout` is not extended.
 */
export const OWNER_ANSWER_SLACK_MS = 250;

/**
 * A read the owner did not answer within the read timeout and the slack, said so. An owner whose
 * data source is slow answers `E_DATASOURCE_TIMEOUT` itself (unless its `readTimeout` is longer
 * than this node's), so this is an owner that is slow or unreachable.
 */
function ownerTimeout<T>(owner: PeerRef, space: KeySpace<T>, error: DistCacheError): DistCacheError {
  const ms = space.config.readTimeoutMs;
  return new DistCacheError(
    'E_TIMEOUT',
    `Owner ${owner.id} did not answer a read of keyspace "${space.name}" within ${ms + OWNER_ANSWER_SLACK_MS}ms ` +
      `(readTimeout ${ms}ms, and ${OWNER_ANSWER_SLACK_MS}ms for its answer): the owner, or the data source it is loading from, is slow`,
    { cause: error, details: { peer: owner.id, keySpace: space.name, timeoutMs: ms } },
  );
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
