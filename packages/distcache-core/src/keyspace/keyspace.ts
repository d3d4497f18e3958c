import { SingleFlight, type Flight } from '../datasource/single-flight';
import type { DataSource } from '../datasource/datasource';
import {
  dataSourceFailed,
  dataSourceTimeout,
  decodeFailed,
  invalidValue,
  valueTooLarge,
} from '../errors/messages';
import { LruStorage } from '../storage/lru.storage';
import { abortable, type Deadline, linkedSignal, waitFor } from '../util/abort';
import type { Clock } from '../util/clock';
import { CacheEntry, entrySize } from './cache-entry';
import type { ResolvedKeySpaceConfig } from './keyspace.options';
import { type KeySpaceCounters, type KeySpaceStats, newCounters } from './keyspace.stats';

/** What a keyspace needs from the engine around it. */
export interface KeySpaceContext {
  readonly clock: Clock;
  /** Aborted when the engine stops; in-flight loads abort with its reason. */
  readonly lifetime: AbortSignal;
}

/**
 * One keyspace on this node: its storage, its loads in progress and its counters. It knows nothing
 * of peers; the engine decides whether a key is served here or elsewhere.
 */
export class KeySpace<T = unknown> {
  readonly storage: LruStorage<CacheEntry<T>>;
  readonly counters: KeySpaceCounters = newCounters();
  private readonly flights = new SingleFlight<T | undefined>();

  constructor(
    private configValue: ResolvedKeySpaceConfig<T>,
    private readonly context: KeySpaceContext,
  ) {
    this.storage = new LruStorage<CacheEntry<T>>({
      maxBytes: configValue.maxBytes,
      clock: context.clock,
      onRemove: (_key, reason) => {
        if (reason === 'evicted') this.counters.evictions += 1;
        else if (reason === 'expired') this.counters.expirations += 1;
      },
    });
  }

  get config(): ResolvedKeySpaceConfig<T> {
    return this.configValue;
  }

  get name(): string {
    return this.configValue.name;
  }

  /** Decodes an entry for a caller. @throws DistCacheError `E_DECODE_FAILED` */
  read(key: string, entry: CacheEntry<T>): T | undefined {
    try {
      return entry.read(this.configValue.codec, this.configValue.valueMode);
    } catch (error) {
      if (this.storage.peek(key) === entry) this.storage.delete(key);
      throw decodeFailed(this.name, key, error);
    }
  }

  /**
   * Loads `key` from the data source, or joins the load already running for it. The load is bounded
   * by the keyspace read timeout; `deadline` bounds only this caller's wait.
   */
  load(key: string, deadline: Deadline): Promise<T | undefined> {
    let flight = this.flights.get(key);
    if (flight !== undefined) {
      this.counters.dedupedLoads += 1;
    } else {
      const source = this.configValue.dataSource;
      if (source === undefined) return Promise.resolve(undefined);
      flight = this.flights.start(key, (f) => this.runLoad(key, source, f));
    }
    return waitFor(flight.promise, deadline, this.context.clock, `get "${this.name}/${key}"`);
  }

  /**
   * Loads several missing keys. With a `fetchMany` data source, the keys that no load covers yet are
   * fetched in one call; each key still gets its own single-flight entry.
   */
  loadMany(keys: readonly string[], deadline: Deadline): Array<Promise<T | undefined>> {
    const source = this.configValue.dataSource;
    const fresh = keys.filter((key) => this.flights.get(key) === undefined);
    if (source?.fetchMany === undefined || fresh.length < 2) {
      return keys.map((key) => this.load(key, deadline));
    }
    const batch = this.runBatch(fresh, async (signal) => {
      const found = await source.fetchMany?.(fresh, { signal, keySpace: this.name });
      return found ?? new Map<string, T | undefined>();
    });
    for (const key of fresh) {
      this.flights.start(key, async (flight) => this.finishLoad(key, (await batch).get(key), flight));
    }
    return keys.map((key) => this.load(key, deadline));
  }

  /**
   * Validates and encodes a value for storing.
   * @throws DistCacheError `E_INVALID_VALUE`, `E_VALUE_TOO_LARGE`
   */
  encode(key: string, value: unknown): Uint8Array {
    if (value === undefined) {
      throw invalidValue(this.name, key, 'undefined means "not found" and cannot be stored; use delete()');
    }
    let bytes: Uint8Array;
    try {
      bytes = this.configValue.codec.encode(value as T);
    } catch (error) {
      throw invalidValue(this.name, key, `codec "${this.configValue.codec.name}" cannot encode it`, error);
    }
    const { maxValueBytes, maxBytes } = this.configValue;
    if (bytes.byteLength > maxValueBytes) {
      throw valueTooLarge(this.name, key, bytes.byteLength, maxValueBytes, 'maxValueBytes');
    }
    if (entrySize(key, bytes) > maxBytes) {
      throw valueTooLarge(this.name, key, entrySize(key, bytes), maxBytes, 'maxBytes');
    }
    return bytes;
  }

  /** Stores encoded bytes (or a "not found" when `bytes` is undefined) until `expiresAt`. */
  store(key: string, bytes: Uint8Array | undefined, expiresAt: number): CacheEntry<T> {
    const entry = new CacheEntry<T>(bytes, expiresAt);
    this.storage.set(key, entry, entrySize(key, bytes));
    return entry;
  }

  /** Absolute expiry for a value stored now with `ttlMs` (keyspace default when undefined). */
  expiryFor(ttlMs: number | undefined): number {
    const ttl = ttlMs ?? this.configValue.ttlMs;
    return ttl === undefined ? Infinity : this.context.clock.now() + ttl;
  }

  /** Removes `key` and makes sure a load running for it does not store an older value. */
  delete(key: string): boolean {
    this.flights.invalidate(key);
    return this.storage.delete(key);
  }

  /** Drops every entry and running load. */
  clear(): void {
    this.flights.invalidateAll();
    this.storage.clear();
  }

  /** Applies a new configuration, keeping entries unless the codec changed. */
  reconfigure(config: ResolvedKeySpaceConfig<T>): void {
    const codecChanged = config.codec.name !== this.configValue.codec.name;
    this.configValue = config;
    if (codecChanged) this.clear();
    this.storage.resize(config.maxBytes);
  }

  stats(): KeySpaceStats {
    const { gets, hits } = this.counters;
    return {
      ...this.counters,
      bytes: this.storage.bytes,
      items: this.storage.items,
      maxBytes: this.storage.maxBytes,
      inFlight: this.flights.size,
      hitRatio: gets === 0 ? 0 : hits / gets,
    };
  }

  private async runLoad(
    key: string,
    source: DataSource<T>,
    flight: Flight<T | undefined>,
  ): Promise<T | undefined> {
    const value = await this.runBatch([key], (signal) =>
      Promise.resolve(source.fetch(key, { signal, keySpace: this.name })),
    );
    return this.finishLoad(key, value, flight);
  }

  /** One data-source call, bounded by the read timeout and the engine's lifetime. */
  private async runBatch<R>(keys: readonly string[], call: (signal: AbortSignal) => Promise<R>): Promise<R> {
    this.counters.loads += 1;
    const { readTimeoutMs } = this.configValue;
    const label = keys.length === 1 ? String(keys[0]) : `${keys.length} keys`;
    const { signal, dispose } = linkedSignal([this.context.lifetime], readTimeoutMs, this.context.clock, () =>
      dataSourceTimeout(this.name, label, readTimeoutMs),
    );
    try {
      let work: Promise<R>;
      try {
        work = call(signal);
      } catch (error) {
        work = Promise.reject(error);
      }
      return await abortable(work, signal).catch((error: unknown) => {
        throw signal.aborted ? signal.reason : dataSourceFailed(this.name, label, error);
      });
    } catch (error) {
      this.counters.loadErrors += keys.length;
      throw error;
    } finally {
      dispose();
    }
  }

  private finishLoad(key: string, value: T | undefined, flight: Flight<T | undefined>): T | undefined {
    if (value === undefined) {
      const { negativeTtlMs } = this.configValue;
      if (negativeTtlMs > 0 && !flight.invalidated) {
        this.store(key, undefined, this.context.clock.now() + negativeTtlMs);
      }
      return undefined;
    }
    let bytes: Uint8Array;
    try {
      bytes = this.encode(key, value);
    } catch (error) {
      this.counters.loadErrors += 1;
      throw error;
    }
    const entry = new CacheEntry<T>(bytes, this.expiryFor(undefined));
    if (!flight.invalidated) this.storage.set(key, entry, entrySize(key, bytes));
    // Callers get the decoded copy, never the object the data source returned (it may keep and
    // change it).
    return this.read(key, entry);
  }
}
