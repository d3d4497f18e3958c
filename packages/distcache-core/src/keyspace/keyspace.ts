import type { BreakerState } from '../datasource/circuit-breaker';
import { SingleFlight, type Flight } from '../datasource/single-flight';
import { SourceGuard } from '../datasource/source-guard';
import type { TokenBucket } from '../datasource/token-bucket';
import { isDistCacheError } from '../errors/distcache-error';
import type { DistCacheErrorCode } from '../errors/error-codes';
import {
  dataSourceFailed,
  dataSourceTimeout,
  decodeFailed,
  invalidValue,
  valueTooLarge,
  valueTooLargeBeforeEncoding,
} from '../errors/messages';
import { LruStorage } from '../storage/lru.storage';
import { type Deadline, waitFor } from '../util/abort';
import { SourceCall } from '../datasource/source-call';
import type { FetchContext } from '../datasource/datasource';
import type { Clock } from '../util/clock';
import { encodedSizeAtLeast } from '../codec/size-bound';
import { bytesEntrySize, CacheEntry, entrySize } from './cache-entry';
import { pack, type PackedBytes } from './packed-bytes';
import { PopularKeys } from './popular-keys';
import { RemoteFlight } from './remote-flight';
import { normalizeTags, TagVersions } from './tag-versions';
import type { ResolvedKeySpaceConfig } from './keyspace.options';
import { type KeySpaceCounters, type KeySpaceStats, newCounters } from './keyspace.stats';
import { ChurnTable } from '../util/churn-table';
import { RecentRemovals } from './recent-removals';
import { bookkeepingLimit, type BookkeepingPart } from './bookkeeping';

/** What a keyspace needs from the engine around it. */
export interface KeySpaceContext {
  readonly clock: Clock;
  /** Aborted when the engine stops; in-flight loads abort with its reason. */
  readonly lifetime: AbortSignal;
  /** Share of `maxBytes` kept for hot copies of keys other nodes own; 0 on a standalone node. */
  readonly hotShare: number;
  /** A cheap, millisecond-resolution reading of `clock` for expiry checks on reads. */
  readonly readNow: () => number;
  /** The engine-wide token bucket shared by every keyspace, when configured. */
  readonly sharedLimit?: TokenBucket | undefined;
  /**
   * In a cluster, the broadcast timeout: removals are remembered for three write timeouts plus
   * this, so that a popular-key hand-off read before a removal is refused (see
   * {@link KeySpace.refusesHandOff}). Undefined on a standalone node (nothing is handed to it).
   */
  readonly handOffGuardMs?: number | undefined;
  /** Reports breaker state changes and stale values served. */
  readonly onEvent?: (event: KeySpaceSourceEvent) => void;
  /** Observes data-source calls (telemetry); absent, calls run unobserved. */
  readonly probe?: LoadProbe | undefined;
}

/** Observes data-source calls: runs `run` and reports how it went (implemented in `telemetry`). */
export interface LoadProbe {
  /** `context.signal` is made on first read (see `SourceCall`): read it only when observing. */
  load<R>(
    keySpace: string,
    keys: readonly string[],
    context: FetchContext,
    run: () => Promise<R>,
  ): Promise<R>;
}

/** What a keyspace reports about its data source. */
export type KeySpaceSourceEvent =
  | { readonly type: 'breaker'; readonly keySpace: string; readonly state: BreakerState }
  | {
      readonly type: 'stale';
      readonly keySpace: string;
      readonly key: string;
      /** Why the stale value was served: the load's error code, or `'revalidating'`. */
      readonly reason: DistCacheErrorCode | 'revalidating';
    };

/** Load failures after which a stale value within grace is served instead of the error. */
const STALE_IF: ReadonlySet<DistCacheErrorCode> = new Set([
  'E_DATASOURCE_FAILED',
  'E_DATASOURCE_TIMEOUT',
  'E_CIRCUIT_OPEN',
  'E_RATE_LIMITED',
]);

/**
 * What {@link KeySpace.lookup} found: a fresh entry (`hit`), an owned entry past its freshness but
 * within grace (`stale`), or nothing usable (`miss`).
 */
export type Lookup<T> =
  | { readonly state: 'hit' | 'stale'; readonly entry: CacheEntry<T> }
  | { readonly state: 'miss'; readonly entry: undefined };

const MISS: Lookup<never> = { state: 'miss', entry: undefined };

/** The one hit result of a keyspace, filled in by each lookup (see {@link KeySpace.lookup}). */
interface HitSlot<T> {
  readonly state: 'hit';
  entry: CacheEntry<T>;
}

/**
 * One keyspace on this node: the entries it owns, hot copies of entries other nodes own, the loads
 * in progress for both, and counters. It knows nothing of peers: the read router looks keys up here
 * and, for a key owned elsewhere, opens a {@link RemoteFlight} that the cluster layer settles.
 */
export class KeySpace<T = unknown> {
  /** Entries this node owns (or loaded as their owner). */
  readonly storage: LruStorage<CacheEntry<T>>;
  /** Short-lived copies of entries owned by other nodes. */
  readonly hot: LruStorage<CacheEntry<T>>;
  private readonly counters: KeySpaceCounters = newCounters();
  private readonly hitSlot: HitSlot<T> = { state: 'hit', entry: undefined as unknown as CacheEntry<T> };
  private readonly flights = new SingleFlight<CacheEntry<T>>();
  /** Reads from owners running on this node, by key. */
  private readonly remoteFlights = new ChurnTable<string, RemoteFlight<T>>();
  private readonly endRemote = (flight: RemoteFlight<T>): void => {
    if (this.remoteFlights.get(flight.key) === flight) this.remoteFlights.delete(flight.key);
  };
  private readonly guard: SourceGuard;
  /** Tag invalidations, checked when a tagged entry is read (see `tag-versions.ts`). */
  readonly tagVersions: TagVersions;
  /** Removals of the last hand-off window, in a cluster (see {@link refusesHandOff}). */
  private readonly removals: RecentRemovals | undefined;
  /** Recent popularity of this keyspace's keys on this node; undefined when turned off. */
  popularKeys: PopularKeys | undefined;
  /** Bytes each part of the bookkeeping holds, reserved out of the entries' budget (`bookkeeping.ts`). */
  private readonly bookkeeping = new Map<BookkeepingPart, number>();

  constructor(
    private configValue: ResolvedKeySpaceConfig<T>,
    private readonly context: KeySpaceContext,
  ) {
    const onRemove = (_key: string, reason: string): void => {
      if (reason === 'evicted') this.counters.evictions += 1;
      else if (reason === 'expired') this.counters.expirations += 1;
    };
    const [main, hot] = this.budgets(configValue.maxBytes);
    const { clock, readNow } = context;
    const tagVersions = new TagVersions(configValue.maxTagRecords, bookkeepingLimit(main));
    this.tagVersions = tagVersions;
    // Untagged entries pay one field check on read.
    const revoked = (entry: CacheEntry<T>): boolean =>
      entry.tagged !== undefined && tagVersions.revoked(entry.tagged);
    this.storage = new LruStorage({ maxBytes: main, clock, readNow, onRemove, revoked });
    this.hot = new LruStorage({ maxBytes: hot, clock, readNow, onRemove, revoked });
    this.popularKeys = makeTracker(configValue);
    const guardMs = context.handOffGuardMs;
    // From a delete applied here: the writer's acknowledgement (within its write timeout), its
    // invalidation reaching the sender (a broadcast timeout), the sender's read, then its hand-off
    // reaching this node by its notAfter (the read + a write timeout, on the sender's clock, which
    // may differ from ours by a write timeout, as SET deadlines already assume).
    this.removals =
      guardMs === undefined
        ? undefined
        : new RecentRemovals(
            () => 3 * this.configValue.writeTimeoutMs + guardMs,
            () => this.bookkeepingLimit,
          );
    this.guard = new SourceGuard(configValue, context.sharedLimit, clock, configValue.name, (state) =>
      context.onEvent?.({ type: 'breaker', keySpace: this.name, state }),
    );
  }

  get config(): ResolvedKeySpaceConfig<T> {
    return this.configValue;
  }

  get name(): string {
    return this.configValue.name;
  }

  /**
   * The one classification of a read, for `get` and `getMany` alike: looks `key` up in owned
   * storage (`owned`: this node owns it) or among hot copies, and counts the get, the hit or miss,
   * and the read for popular-key tracking. A hot copy is never stale: it expires with its freshness.
   */
  lookup(key: string, owned: boolean): Lookup<T> {
    // A hit returns this keyspace's one hit slot, filled in: no allocation on the hit path (it was
    // ~10% of a local hit's CPU, in GC). The result is valid until the next lookup: read it at once.
    const counters = this.counters;
    counters.gets += 1;
    const entry = owned ? this.storage.get(key) : this.hot.get(key);
    if (entry === undefined) {
      counters.misses += 1;
      this.noteRead(key, false);
      return MISS;
    }
    this.noteRead(key, true);
    if (!owned) {
      counters.hits += 1;
      counters.hotHits += 1;
      this.hitSlot.entry = entry;
      return this.hitSlot;
    }
    if (this.isFresh(entry)) {
      counters.hits += 1;
      this.hitSlot.entry = entry;
      return this.hitSlot;
    }
    counters.misses += 1;
    return { state: 'stale', entry };
  }

  /**
   * The answer to a `get` that found `entry` ({@link lookup} said `hit`): a held frozen value's one
   * resolved promise, else {@link read} in a new one.
   * @throws DistCacheError `E_DECODE_FAILED`
   */
  answer(key: string, entry: CacheEntry<T>): Promise<T | undefined> {
    const answer = entry.answer;
    if (answer !== undefined && this.configValue.valueMode === 'frozen') return answer;
    return Promise.resolve(this.read(key, entry));
  }

  /** The value of an entry for a caller. @throws DistCacheError `E_DECODE_FAILED` */
  read(key: string, entry: CacheEntry<T>): T | undefined {
    // The hit path: a value held decoded is handed out as is.
    if (entry.isShared) {
      // Held decoded since before a reconfiguration to 'copy': that mode hands out private copies.
      return this.configValue.valueMode === 'frozen' ? entry.sharedValue : this.readPrivate(key, entry);
    }
    return this.decode(key, entry);
  }

  /** {@link read} for an entry nothing keeps. @throws DistCacheError `E_DECODE_FAILED` */
  private readTransient(key: string, entry: CacheEntry<T>): T | undefined {
    try {
      return entry.readTransient(this.configValue.codec, this.configValue.valueMode);
    } catch (error) {
      throw decodeFailed(this.name, key, error, this.configValue.codec.name);
    }
  }

  private decode(key: string, entry: CacheEntry<T>): T | undefined {
    const held = entry.held;
    let value: T | undefined;
    try {
      value = entry.read(this.configValue.codec, this.configValue.valueMode);
    } catch (error) {
      if (this.storage.peek(key) === entry) this.storage.delete(key);
      if (this.hot.peek(key) === entry) this.hot.delete(key);
      throw decodeFailed(this.name, key, error, this.configValue.codec.name);
    }
    if (entry.held !== held) this.recharge(key, entry);
    return value;
  }

  /** Charges a stored entry again after it changed form (bytes dropped for the decoded value). */
  private recharge(key: string, entry: CacheEntry<T>): void {
    const store =
      this.storage.peek(key) === entry ? this.storage : this.hot.peek(key) === entry ? this.hot : undefined;
    if (store === undefined) return;
    const size = entrySize(key, entry);
    // A value larger decoded than the whole budget is not kept (lru-cache would drop it silently).
    if (size > store.maxBytes) store.delete(key);
    // Kept as a new object: every hit reads the entry, and entries made now, on their first reads,
    // sit next to each other in the heap once collected, where entries made by puts and loads were
    // scattered among their bytes (measured: 1.23-1.29x local-hit throughput).
    else store.recharge(key, entry, size, entry.retimed(entry.freshUntil, entry.expiresAt));
  }

  /**
   * The encoded bytes of an entry, as a peer receives them (encoded again when held decoded).
   * @throws DistCacheError `E_INVALID_VALUE` when the codec cannot encode the held value again
   */
  wireBytes(key: string, entry: CacheEntry<T>): PackedBytes | undefined {
    try {
      return entry.wireBytes(this.configValue.codec);
    } catch (error) {
      throw invalidValue(this.name, key, `codec "${this.configValue.codec.name}" cannot encode it`, error);
    }
  }

  /** Decodes a private copy for one caller. @throws DistCacheError `E_DECODE_FAILED` */
  private readPrivate(key: string, entry: CacheEntry<T>): T | undefined {
    try {
      return entry.readPrivate(this.configValue.codec);
    } catch (error) {
      throw decodeFailed(this.name, key, error, this.configValue.codec.name);
    }
  }

  /**
   * Loads `key` from the data source as its owner, or joins the load already running for it. The
   * load is bounded by the keyspace read timeout; `deadline` bounds only this caller's wait.
   */
  load(key: string, deadline: Deadline): Promise<T | undefined> {
    return this.wait(key, this.loadEntry(key), deadline);
  }

  /** Like {@link load} but resolves to the entry (bytes and expiry), as a peer request needs. */
  loadEntry(key: string): Promise<CacheEntry<T>> {
    const running = this.flights.get(key);
    if (running !== undefined) {
      this.counters.dedupedLoads += 1;
      return running.promise;
    }
    return this.flights.start(key, async (flight) => this.finishLoad(key, await this.fetchOne(key), flight))
      .promise;
  }

  /** True when `entry` may be served as fresh now. */
  isFresh(entry: CacheEntry<T>): boolean {
    // Without grace the storage drops an entry when it stops being fresh: no second clock read.
    return entry.freshUntil === entry.expiresAt || entry.isFresh(this.context.readNow());
  }

  /**
   * The entry for a key this node owns, as a peer request needs it: the cached one when fresh, a
   * reload when missing or stale, and the stale one when the reload fails within grace.
   */
  ownedEntry(key: string): Promise<CacheEntry<T>> {
    const entry = this.storage.get(key);
    if (entry === undefined) return this.loadEntry(key);
    if (this.isFresh(entry)) return Promise.resolve(entry);
    return this.staleOrReload(key, entry);
  }

  /** Serves a stale entry: refreshed in the background, or only when the reload fails. */
  readStale(key: string, stale: CacheEntry<T>, deadline: Deadline): Promise<T | undefined> {
    return this.wait(key, this.staleOrReload(key, stale), deadline);
  }

  private async staleOrReload(key: string, stale: CacheEntry<T>): Promise<CacheEntry<T>> {
    if (this.configValue.staleWhileRevalidate) {
      // The refresh's own failure is counted in loadErrors; the caller has its value already.
      this.loadEntry(key).catch(() => undefined);
      this.servedStale(key, 'revalidating');
      return stale;
    }
    try {
      return await this.loadEntry(key);
    } catch (error) {
      if (!isDistCacheError(error) || !STALE_IF.has(error.code)) throw error;
      this.servedStale(key, error.code);
      return stale;
    }
  }

  private servedStale(key: string, reason: DistCacheErrorCode | 'revalidating'): void {
    this.counters.staleHits += 1;
    this.context.onEvent?.({ type: 'stale', keySpace: this.name, key, reason });
  }

  /**
   * Loads several missing keys as their owner. With a `fetchMany` data source, keys that no load
   * covers yet are fetched in one call; each key still gets its own single-flight entry.
   */
  loadEntries(keys: readonly string[]): Array<Promise<CacheEntry<T>>> {
    const source = this.configValue.dataSource;
    const fresh = keys.filter((key) => this.flights.get(key) === undefined);
    if (source?.fetchMany !== undefined && fresh.length >= 2) {
      const batch = this.callSource(fresh, async (context) => {
        const found = await source.fetchMany?.(fresh, context);
        // A user's source (a `@KeySpace` provider's, say) can return anything at run time; an
        // array or a plain object failed every key with a bare "get is not a function".
        // (Nothing, undefined or null, stays "none of them found", as before.)
        if (found == null) return new Map<string, T | undefined>();
        if (typeof (found as Partial<ReadonlyMap<string, T>>).get !== 'function') throw notAMap(found);
        return found;
      });
      for (const key of fresh) {
        this.flights.start(key, async (flight) => this.finishLoad(key, (await batch).get(key), flight));
      }
    }
    return keys.map((key) => this.loadEntry(key));
  }

  /** Decoded results of {@link loadEntries}, each bounded by `deadline`. */
  loadMany(keys: readonly string[], deadline: Deadline): Array<Promise<T | undefined>> {
    const entries = this.loadEntries(keys);
    return keys.map((key, index) => this.wait(key, entries[index] as Promise<CacheEntry<T>>, deadline));
  }

  /**
   * The read of `key` from its owner already running on this node, joined (counted as a
   * deduplicated load); undefined when none runs.
   */
  joinRemote(key: string): RemoteFlight<T> | undefined {
    const flight = this.remoteFlights.get(key);
    if (flight === undefined) return undefined;
    this.counters.dedupedLoads += 1;
    flight.waiters += 1;
    return flight;
  }

  /**
   * Opens a read of `key` from its owner, which later callers on this node join
   * ({@link joinRemote}) until its sender settles it. A write or delete of the key meanwhile marks
   * it invalidated and detaches it.
   */
  beginRemote(key: string): RemoteFlight<T> {
    const flight = new RemoteFlight<T>(key, this.endRemote);
    this.remoteFlights.set(key, flight);
    return flight;
  }

  /**
   * The value of an entry an owner answered. Frozen like every other read (valueMode 'copy'
   * aside): a caller must not see a mutable value on the first read from the owner and a frozen
   * one on the next, from the hot copy. The hot copy itself (`kept`, see {@link storeHot}) is read
   * as a kept entry (decoded once, measured, so its next hit decodes nothing); an answer not kept
   * (hotTtl 0, invalidated) skips the measuring: nothing holds it.
   * @throws DistCacheError `E_DECODE_FAILED`
   */
  readLoaded(key: string, entry: CacheEntry<T>, kept: boolean): T | undefined {
    try {
      return kept ? this.read(key, entry) : this.readTransient(key, entry);
    } catch (error) {
      // An owner's answer this node cannot read (another codec there): a failed read from a peer,
      // counted as one so that stats and metrics show it.
      if (isDistCacheError(error, 'E_DECODE_FAILED')) this.countPeerError();
      throw error;
    }
  }

  /** Counts puts of `count` entries. */
  countPuts(count: number): void {
    this.counters.puts += count;
  }

  /** Counts deletes of `count` keys. */
  countDeletes(count: number): void {
    this.counters.deletes += count;
  }

  /** Counts one request served for another node. */
  countPeerRequest(): void {
    this.counters.peerRequestsServed += 1;
  }

  /** Counts a miss of a key owned elsewhere that its owner answered. */
  countPeerLoad(): void {
    this.counters.peerLoads += 1;
  }

  /** Counts a failed request to a peer (unreachable, timed out, protocol error). */
  countPeerError(): void {
    this.counters.peerErrors += 1;
  }

  /** Counts a popular-key hand-off received from a previous owner: stored, or refused. */
  countHandOff(stored: boolean): void {
    if (stored) this.counters.handOffsStored += 1;
    else this.counters.handOffsRefused += 1;
  }

  /** Counts a load this node made itself because the owner could not serve it. */
  countFallbackLoad(): void {
    this.counters.fallbackLoads += 1;
  }

  /** The counters as they are now (read-only; for telemetry, which compares them around a call). */
  get counts(): Readonly<KeySpaceCounters> {
    return this.counters;
  }

  /** Counts a read of `key` for popular-key tracking (hits are sampled, misses always count). */
  noteRead(key: string, hit: boolean): void {
    const tracker = this.popularKeys;
    if (tracker === undefined) return;
    if (hit) tracker.hit(key, this.context.readNow);
    else tracker.record(key, this.context.readNow());
  }

  /** Moves a hot copy into owned storage (this node became the key's owner). True when there was one. */
  promoteHot(key: string): boolean {
    const entry = this.hot.peek(key);
    if (entry === undefined) return false;
    this.hot.delete(key);
    this.flights.invalidate(key);
    const owned = entry.found
      ? entry.retimed(entry.freshUntil, entry.freshUntil + this.configValue.graceMs)
      : entry;
    // Stamped again for its longer life: the tag records must outlive it (peek said it is not revoked).
    if (owned !== entry) this.stamp(owned, entry.tags);
    this.storage.set(key, owned, entrySize(key, owned));
    return true;
  }

  /** True when this node holds a fresh entry for `key` as its owner, or is loading it. */
  holdsOrLoads(key: string): boolean {
    const entry = this.storage.get(key);
    return (entry !== undefined && this.isFresh(entry)) || this.flights.get(key) !== undefined;
  }

  /**
   * True when a popular-key hand-off (a SET if absent from the key's previous owner) must not be
   * stored: this node holds or loads the key, or removed it lately (or every key, or tagged values
   * when the hand-off carries tags). The previous owner read the value before sending it; a delete
   * applied here meanwhile leaves nothing, and "absent" would bring the deleted value back, served
   * here and fetched as hot copies by the other nodes.
   */
  refusesHandOff(key: string, tagged: boolean): boolean {
    if (this.holdsOrLoads(key)) return true;
    return this.removals?.removedLately(key, tagged, this.context.readNow()) === true;
  }

  /**
   * `key` was written (a peer's SET, this node's own put as the owner) or removed here: a hand-off
   * read before it is refused, even once a written value has expired or been evicted.
   */
  noteChanged(key: string): void {
    if (this.removals === undefined) return;
    this.removals.key(key, this.context.readNow());
    this.charge('removals', this.removals.bytes);
  }

  /** Most bytes one part of this keyspace's bookkeeping may hold (`bookkeeping.ts`). */
  get bookkeepingLimit(): number {
    return bookkeepingLimit(this.storage.maxBytes);
  }

  /**
   * Charges what `part` of this keyspace's bookkeeping holds now against its budget: entries are
   * evicted, least recently used first, to leave room for it. The cluster layer charges what it
   * keeps for this keyspace (missed invalidations, recent writes) here.
   */
  charge(part: BookkeepingPart, bytes: number): void {
    if ((this.bookkeeping.get(part) ?? 0) === bytes) return;
    this.bookkeeping.set(part, bytes);
    let total = 0;
    for (const held of this.bookkeeping.values()) total += held;
    this.storage.reserve(total);
  }

  /**
   * Calls the data source for one key as this node (used as the fallback when the owner cannot be
   * reached), bounded by the read timeout.
   */
  fetchOne(key: string): Promise<T | undefined> {
    const source = this.configValue.dataSource;
    if (source === undefined) return Promise.resolve(undefined);
    return this.callSource([key], (context) => Promise.resolve(source.fetch(key, context)));
  }

  /**
   * Validates and encodes a value for storing.
   * @throws DistCacheError `E_INVALID_VALUE`, `E_VALUE_TOO_LARGE`
   */
  encode(key: string, value: unknown): Uint8Array {
    if (value === undefined) {
      throw invalidValue(this.name, key, 'undefined means "not found" and cannot be stored; use delete()');
    }
    // Refused before encoding when its strings and bytes alone are over the limit (size-bound.ts).
    const { codec, maxValueBytes } = this.configValue;
    let atLeast: number;
    try {
      atLeast = encodedSizeAtLeast(codec.name, value, maxValueBytes);
    } catch (error) {
      // The walk reads the value: a getter or a proxy trap that throws makes it unencodable too.
      throw invalidValue(this.name, key, `codec "${codec.name}" cannot encode it`, error);
    }
    if (atLeast > maxValueBytes) throw valueTooLargeBeforeEncoding(this.name, key, atLeast, maxValueBytes);
    let bytes: Uint8Array;
    try {
      bytes = this.configValue.codec.encode(value as T);
    } catch (error) {
      throw invalidValue(this.name, key, `codec "${this.configValue.codec.name}" cannot encode it`, error);
    }
    this.checkSize(key, bytes);
    return bytes;
  }

  /** @throws DistCacheError `E_VALUE_TOO_LARGE` */
  checkSize(key: string, bytes: Uint8Array): void {
    const { maxValueBytes, maxBytes } = this.configValue;
    if (bytes.byteLength > maxValueBytes) {
      throw valueTooLarge(this.name, key, bytes.byteLength, maxValueBytes, 'maxValueBytes');
    }
    const size = bytesEntrySize(key, bytes);
    if (size > this.storage.maxBytes) throw valueTooLarge(this.name, key, size, maxBytes, 'maxBytes');
  }

  /**
   * Stores encoded bytes as owner (or a "not found" when `bytes` is undefined), fresh until
   * `freshUntil` and kept `grace` longer.
   */
  store(
    key: string,
    bytes: Uint8Array | undefined,
    freshUntil: number,
    tags?: readonly string[],
  ): CacheEntry<T> {
    this.flights.invalidate(key);
    const entry = this.newEntry(bytes === undefined ? undefined : pack(bytes), freshUntil);
    if (bytes !== undefined) this.stamp(entry, tags);
    this.storage.set(key, entry, entrySize(key, entry));
    return entry;
  }

  /**
   * Keeps a hot copy of an entry owned elsewhere, at most until `maxExpiresAt`, unless the key was
   * invalidated while it was being fetched. Returns the copy kept, if any.
   */
  storeHot(
    key: string,
    entry: CacheEntry<T>,
    flight: { readonly invalidated: boolean },
    maxExpiresAt: number,
  ): CacheEntry<T> | undefined {
    if (flight.invalidated || this.hot.maxBytes === 0) return undefined;
    const expiresAt = Math.min(entry.freshUntil, maxExpiresAt);
    if (expiresAt <= this.context.clock.now()) return undefined;
    const copy = entry.retimed(expiresAt);
    // Stamped now: a tag invalidation before this point invalidated the flight (see invalidateTags).
    this.stamp(copy, entry.tags);
    this.hot.set(key, copy, entrySize(key, copy));
    return copy;
  }

  /** Absolute expiry for a value stored now with `ttlMs` (keyspace default when undefined). */
  expiryFor(ttlMs: number | undefined): number {
    const ttl = ttlMs ?? this.configValue.ttlMs;
    return ttl === undefined ? Infinity : this.context.clock.now() + ttl;
  }

  /**
   * Removes `key` everywhere on this node; loads running for it will not store their result.
   * True when this node held a live value for it as owner (a remembered "not found" or an expired
   * entry is not a value; a hot copy is not the owner's).
   */
  delete(key: string): boolean {
    this.noteChanged(key);
    this.flights.invalidate(key);
    this.invalidateRemote(key);
    const held = this.storage.get(key)?.found === true;
    this.storage.delete(key);
    this.hot.delete(key);
    return held;
  }

  /** Drops the hot copy of `key` and cancels the effect of a remote load running for it. */
  invalidateHot(key: string): void {
    this.invalidateRemote(key);
    this.hot.delete(key);
  }

  /** Marks every read from owners running here invalidated and detaches them. */
  private invalidateAllRemote(): void {
    for (const flight of this.remoteFlights.values()) flight.invalidated = true;
    this.remoteFlights.clear();
  }

  /** Marks the read of `key` from its owner invalidated and detaches it. */
  private invalidateRemote(key: string): void {
    const flight = this.remoteFlights.get(key);
    if (flight === undefined) return;
    flight.invalidated = true;
    this.remoteFlights.delete(key);
  }

  /** Drops every entry and running load, and stops the breaker's timers. */
  close(): void {
    this.clear();
    this.guard.shutdown();
    // What the cluster layer keeps for it is no longer this keyspace's to hold.
    this.bookkeeping.clear();
    this.storage.reserve(0);
  }

  /** Drops every entry and running load, and forgets the popular-key counts. */
  clear(): void {
    this.removals?.all(this.context.readNow());
    this.popularKeys?.clear();
    this.flights.invalidateAll();
    this.invalidateAllRemote();
    this.storage.clear();
    this.hot.clear();
    this.tagVersions.clear();
    this.chargeOwnBookkeeping();
  }

  private chargeOwnBookkeeping(): void {
    this.charge('tags', this.tagVersions.bytes);
    if (this.removals !== undefined) this.charge('removals', this.removals.bytes);
  }

  /**
   * Revokes every entry on this node that carries one of `tags` (owned entries and hot copies), in
   * O(tags): entries are checked when read. Loads running now will not store their result, since
   * what they load may carry one of the tags: they are detached like on a delete, and callers that
   * come later start a fresh load.
   */
  invalidateTags(tags: readonly string[], counted = true): void {
    if (tags.length === 0) return;
    const now = this.context.clock.now();
    this.tagVersions.invalidate(tags, now);
    this.removals?.tags(now);
    this.charge('tags', this.tagVersions.bytes);
    // A value this node loads from its source carries tags only through the keyspace's `tags`
    // function: without one, no load running here can store an entry a tag revokes, and detaching
    // them all made every deleteByTags repeat every load in flight (a keyspace invalidated every
    // few ms never stored anything). Copies fetched from owners may carry a put's tags: detached.
    if (this.configValue.tags !== undefined) this.flights.invalidateAll();
    this.invalidateAllRemote();
    if (counted) this.counters.tagInvalidations += tags.length;
  }

  /**
   * The tags of a value: the put's own when given, else the keyspace's `tags` function.
   * @throws DistCacheError `E_INVALID_VALUE` when they are not a list of short non-empty strings
   */
  tagsOf(key: string, value: T, given?: readonly string[]): readonly string[] | undefined {
    let tags: unknown = given;
    if (tags === undefined && this.configValue.tags !== undefined) {
      try {
        tags = this.configValue.tags(value, key);
      } catch (error) {
        throw invalidValue(this.name, key, 'the keyspace tags function threw', error);
      }
    }
    const normal = normalizeTags(tags);
    if (typeof normal === 'string') throw invalidValue(this.name, key, normal);
    return normal;
  }

  /** Gives an entry its tags, stamped now. */
  private stamp(entry: CacheEntry<T>, tags: readonly string[] | undefined): void {
    if (tags === undefined || tags.length === 0) return;
    entry.setTagged(this.tagVersions.stamp(tags, entry.expiresAt));
  }

  /** Removes expired entries (and revoked tagged ones); returns how many expired. */
  purgeExpired(): number {
    const now = this.context.clock.now();
    this.tagVersions.prune(now);
    this.removals?.age(this.context.readNow());
    this.chargeOwnBookkeeping();
    return this.storage.purgeExpired() + this.hot.purgeExpired();
  }

  /** Applies a new configuration, keeping entries unless the codec changed. */
  reconfigure(config: ResolvedKeySpaceConfig<T>): void {
    const codecChanged = config.codec.name !== this.configValue.codec.name;
    // Loads running now compute their tags when they finish, with the new function, and are
    // stamped then: one started before a deleteByTags that did not detach it (there was no tags
    // function) would store a value carrying a tag that call revoked.
    if (config.tags !== undefined && this.configValue.tags === undefined) this.flights.invalidateAll();
    if (JSON.stringify(config.popularKeys) !== JSON.stringify(this.configValue.popularKeys))
      this.popularKeys = makeTracker(config);
    this.configValue = config;
    this.tagVersions.setLimit(config.maxTagRecords, bookkeepingLimit(this.budgets(config.maxBytes)[0]));
    this.guard.reconfigure(config);
    if (codecChanged) this.clear();
    const [main, hot] = this.budgets(config.maxBytes);
    this.storage.resize(main);
    this.hot.resize(hot);
    // A smaller budget: keys removed lately past its share count as all removed (tag records were
    // brought within it by setLimit).
    if (this.removals !== undefined && this.removals.bytes > this.bookkeepingLimit)
      this.removals.all(this.context.readNow());
    this.chargeOwnBookkeeping();
  }

  stats(): KeySpaceStats {
    const { gets, hits } = this.counters;
    return {
      ...this.counters,
      bytes: this.storage.bytes + this.hot.bytes + this.storage.reserved,
      bookkeepingBytes: this.storage.reserved,
      items: this.storage.items + this.hot.items,
      hotItems: this.hot.items,
      maxBytes: this.configValue.maxBytes,
      inFlight: this.flights.size + this.remoteFlights.size,
      breaker: this.guard.breakerState ?? 'none',
      hitRatio: gets === 0 ? 0 : hits / gets,
    };
  }

  private budgets(maxBytes: number): [main: number, hot: number] {
    const hot = Math.floor(maxBytes * this.context.hotShare);
    return [maxBytes - hot, Math.max(hot, 1)];
  }

  private wait(key: string, entry: Promise<CacheEntry<T>>, deadline: Deadline): Promise<T | undefined> {
    return waitFor(
      entry.then((loaded) => this.read(key, loaded)),
      deadline,
      this.context.clock,
      `get "${this.name}/${key}"`,
    );
  }

  /**
   * One data-source call, admitted by the rate limits and the breaker, bounded by the read timeout
   * and the engine's lifetime.
   */
  private async callSource<R>(
    keys: readonly string[],
    run: (context: FetchContext) => Promise<R>,
  ): Promise<R> {
    const { readTimeoutMs } = this.configValue;
    const label = keys.length === 1 ? String(keys[0]) : `${keys.length} keys`;
    try {
      return await this.guard.run(async () => {
        this.counters.loads += 1;
        const call = new SourceCall(this.name, this.context.lifetime, readTimeoutMs, this.context.clock, () =>
          dataSourceTimeout(this.name, label, readTimeoutMs),
        );
        try {
          const probe = this.context.probe;
          return await call
            .run(() =>
              probe === undefined
                ? run(call.context)
                : probe.load(this.name, keys, call.context, () => run(call.context)),
            )
            .catch((error: unknown) => {
              throw call.ended ? call.endedWith : dataSourceFailed(this.name, label, error);
            });
        } finally {
          call.dispose();
        }
      }, this.context.lifetime);
    } catch (error) {
      this.counters.loadErrors += keys.length;
      if (isDistCacheError(error, 'E_RATE_LIMITED')) this.counters.rateLimited += 1;
      if (isDistCacheError(error, 'E_CIRCUIT_OPEN')) this.counters.circuitRejected += 1;
      throw error;
    }
  }

  /** Turns a loaded value into an entry and stores it, unless a write made the load stale. */
  private finishLoad(key: string, value: T | undefined, flight: Flight<CacheEntry<T>>): CacheEntry<T> {
    const entry = this.toEntry(key, value);
    if (!flight.invalidated && (entry.found || this.configValue.negativeTtlMs > 0)) {
      this.storage.set(key, entry, entrySize(key, entry));
    }
    return entry;
  }

  /**
   * An entry for a freshly loaded value: encoded, with the keyspace expiry; "not found" expires
   * after `negativeTtl` (at once when negative caching is off).
   */
  toEntry(key: string, value: T | undefined): CacheEntry<T> {
    const now = this.context.clock.now();
    if (value === undefined) return new CacheEntry<T>(undefined, now + this.configValue.negativeTtlMs);
    let bytes: Uint8Array;
    let tags: readonly string[] | undefined;
    try {
      bytes = this.encode(key, value);
      tags = this.configValue.tags === undefined ? undefined : this.tagsOf(key, value);
    } catch (error) {
      this.counters.loadErrors += 1;
      throw error;
    }
    const entry = this.newEntry(pack(bytes), this.expiryFor(undefined));
    this.stamp(entry, tags);
    return entry;
  }

  /** An entry fresh until `freshUntil`; a value (not a "not found") is kept `grace` longer. */
  private newEntry(bytes: PackedBytes | undefined, freshUntil: number): CacheEntry<T> {
    const { graceMs } = this.configValue;
    return new CacheEntry<T>(bytes, freshUntil, bytes === undefined ? freshUntil : freshUntil + graceMs);
  }
}

/** What a `fetchMany` that returned something else than a Map is failed with. */
function notAMap(found: unknown): TypeError {
  const what = Array.isArray(found) ? 'an array' : `a ${typeof found}`;
  return new TypeError(
    `fetchMany must resolve to a Map of key to value (keys absent from it are "not found"), not ${what}: ` +
      'e.g. new Map(rows.map((row) => [row.id, row]))',
  );
}

function makeTracker(config: ResolvedKeySpaceConfig<unknown>): PopularKeys | undefined {
  return config.popularKeys === undefined ? undefined : new PopularKeys(config.popularKeys);
}
