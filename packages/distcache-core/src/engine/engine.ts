import { EventEmitter } from 'node:events';
import type { ClusterCoordinator } from '../cluster/coordinator';
import { StandaloneCoordinator } from '../cluster/standalone.coordinator';
import { engineStopped, invalidKey, keySpaceExists, keySpaceNotFound } from '../errors/messages';
import { KeySpace } from '../keyspace/keyspace';
import { type KeySpaceDefinition, resolveKeySpaceConfig } from '../keyspace/keyspace.options';
import { toMs } from '../util/duration';
import type { Deadline } from '../util/abort';
import { waitFor } from '../util/abort';
import type { EngineEvents, EngineState } from './engine.events';
import {
  type DistCacheEngineOptions,
  type ResolvedEngineOptions,
  resolveEngineOptions,
} from './engine.options';
import type {
  EngineStats,
  GetOptions,
  KeySpaceConfigSnapshot,
  PutEntry,
  PutOptions,
  WriteOptions,
} from './engine.types';
import { Lifecycle } from './lifecycle';

/**
 * The cache engine: keyspaces, read-through loading and, in a cluster, owner routing.
 *
 * @example
 * const engine = new DistCacheEngine({
 *   keySpaces: [defineKeySpace<Product>({ name: 'products', ttl: '5m', dataSource: { fetch: loadProduct } })],
 * });
 * await engine.start();
 * const product = await engine.get<Product>('products', '42');
 * await engine.stop();
 */
export class DistCacheEngine extends EventEmitter<EngineEvents> {
  /** The validated options, durations in milliseconds. */
  readonly options: ResolvedEngineOptions;
  private readonly spaces = new Map<string, KeySpace>();
  private readonly lifecycle = new Lifecycle((state) => this.emit('state', state));
  private readonly lifetime = new AbortController();
  private readonly coordinator: ClusterCoordinator;
  private purgeTimer: unknown;

  /** @throws DistCacheError `E_INVALID_OPTION` (naming the field) or `E_KEYSPACE_EXISTS` */
  constructor(options: DistCacheEngineOptions = {}) {
    super();
    this.options = resolveEngineOptions(options);
    for (const config of this.options.keySpaces) {
      this.spaces.set(config.name, this.createKeySpace(config));
    }
    this.coordinator = new StandaloneCoordinator(this.options.discovery, {
      host: this.options.advertiseHost,
      port: this.options.port,
      nodeName: this.options.nodeName,
    });
  }

  /** `idle`, `starting`, `running`, `stopping` or `stopped`. */
  get state(): EngineState {
    return this.lifecycle.state;
  }

  /**
   * Starts the engine: joins the cluster and starts background work. Idempotent; concurrent calls
   * share one start. A failed start releases everything it opened and leaves the engine `idle`.
   * @throws DistCacheError `E_START_FAILED` (with `cause`), `E_ENGINE_STOPPED` after `stop()`
   */
  start(): Promise<void> {
    return this.lifecycle.start(async () => {
      await this.coordinator.start(this.lifetime.signal);
      this.schedulePurge();
    });
  }

  /**
   * Leaves the cluster, aborts loads in flight (`E_ENGINE_STOPPED`) and frees memory. Idempotent.
   * A stopped engine cannot be started again.
   */
  stop(): Promise<void> {
    return this.lifecycle.stop(async () => {
      this.options.clock.clearTimeout(this.purgeTimer);
      this.purgeTimer = undefined;
      this.lifetime.abort(engineStopped('finish the load'));
      try {
        await this.coordinator.stop();
      } finally {
        for (const space of this.spaces.values()) space.clear();
      }
    });
  }

  /**
   * Reads a key: from the cache when present, else from the keyspace's data source (once, however
   * many callers ask meanwhile). Resolves to `undefined` when the source has no such key.
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_INVALID_KEY`, `E_DATASOURCE_FAILED`,
   *   `E_DATASOURCE_TIMEOUT`, `E_INVALID_VALUE`, `E_VALUE_TOO_LARGE`, `E_TIMEOUT`, `E_ABORTED`,
   *   `E_ENGINE_NOT_STARTED`, `E_ENGINE_STOPPED`
   */
  async get<T = unknown>(keySpace: string, key: string, options?: GetOptions): Promise<T | undefined> {
    const space = this.running<T>(keySpace, 'get');
    this.checkKey(space, key);
    const { counters } = space;
    counters.gets += 1;
    const entry = space.storage.get(key);
    if (entry !== undefined) {
      counters.hits += 1;
      return space.read(key, entry);
    }
    counters.misses += 1;
    return space.load(key, this.deadline(options, 'timeout'));
  }

  /**
   * Reads several keys of one keyspace; missing keys are loaded in parallel (in one `fetchMany`
   * call when the data source has it). The map has one entry per distinct key, in request order.
   * @throws the first error of any key, after every key settled; see {@link get}
   */
  async getMany<T = unknown>(
    keySpace: string,
    keys: readonly string[],
    options?: GetOptions,
  ): Promise<Map<string, T | undefined>> {
    const space = this.running<T>(keySpace, 'getMany');
    const unique = [...new Set(this.checkKeys(space, keys))];
    const results = new Map<string, T | undefined>();
    const missing: string[] = [];
    for (const key of unique) {
      space.counters.gets += 1;
      const entry = space.storage.get(key);
      if (entry === undefined) {
        space.counters.misses += 1;
        missing.push(key);
        results.set(key, undefined);
      } else {
        space.counters.hits += 1;
        results.set(key, space.read(key, entry));
      }
    }
    if (missing.length === 0) return results;
    const loads = space.loadMany(missing, this.deadline(options, 'timeout'));
    const settled = await Promise.allSettled(loads);
    settled.forEach((outcome, index) => {
      if (outcome.status === 'rejected') throw outcome.reason;
      results.set(missing[index] as string, outcome.value);
    });
    return results;
  }

  /**
   * Stores a value, replacing what the key held, and cancels the effect of loads in flight for it.
   * @throws DistCacheError `E_INVALID_VALUE` (undefined or not encodable), `E_VALUE_TOO_LARGE`,
   *   `E_INVALID_KEY`, `E_KEYSPACE_NOT_FOUND`, `E_INVALID_OPTION` (bad ttl), engine state errors
   */
  async put<T = unknown>(keySpace: string, key: string, value: T, options?: PutOptions): Promise<void> {
    await this.putMany<T>(keySpace, [{ key, value, ttl: options?.ttl }], options);
  }

  /**
   * Stores several values. Every entry is validated and encoded before anything is stored, so a bad
   * entry leaves the cache unchanged.
   * @throws see {@link put}
   */
  async putMany<T = unknown>(
    keySpace: string,
    entries: ReadonlyArray<PutEntry<T>>,
    options?: WriteOptions,
  ): Promise<void> {
    const space = this.running<T>(keySpace, 'put');
    if (!isList(entries)) throw invalidKey(keySpace, 'putMany expects an array of { key, value, ttl? }');
    const prepared = entries.map((entry, index) => {
      this.checkKey(space, entry.key);
      const ttlMs = entry.ttl === undefined ? undefined : toMs(entry.ttl, `entries[${index}].ttl`);
      if (ttlMs === 0) return { key: entry.key, bytes: undefined, expiresAt: 0 };
      return {
        key: entry.key,
        bytes: space.encode(entry.key, entry.value),
        expiresAt: space.expiryFor(ttlMs),
      };
    });
    const deadline = this.deadline(options, 'timeout', space.config.writeTimeoutMs);
    await waitFor(
      Promise.resolve().then(() => {
        for (const { key, bytes, expiresAt } of prepared) {
          space.counters.puts += 1;
          // A zero ttl stores nothing: the value would be expired at once.
          if (bytes === undefined) space.delete(key);
          else {
            space.delete(key);
            space.store(key, bytes, expiresAt);
          }
        }
      }),
      deadline,
      this.options.clock,
      `put into "${keySpace}"`,
    );
  }

  /**
   * Removes a key; a load in flight for it will not store its result.
   * @throws DistCacheError `E_INVALID_KEY`, `E_KEYSPACE_NOT_FOUND`, engine state errors
   */
  async delete(keySpace: string, key: string, options?: WriteOptions): Promise<void> {
    await this.deleteMany(keySpace, [key], options);
  }

  /**
   * Removes several keys; all keys are validated before any is removed.
   * @throws see {@link delete}
   */
  async deleteMany(keySpace: string, keys: readonly string[], options?: WriteOptions): Promise<void> {
    const space = this.running(keySpace, 'delete');
    const checked = this.checkKeys(space, keys);
    const deadline = this.deadline(options, 'timeout', space.config.writeTimeoutMs);
    await waitFor(
      Promise.resolve().then(() => {
        for (const key of checked) {
          space.counters.deletes += 1;
          space.delete(key);
        }
      }),
      deadline,
      this.options.clock,
      `delete from "${keySpace}"`,
    );
  }

  /**
   * Registers a keyspace at runtime (before or after `start`).
   * @throws DistCacheError `E_INVALID_OPTION`, `E_KEYSPACE_EXISTS`, `E_ENGINE_STOPPED`
   */
  addKeySpace<T>(definition: KeySpaceDefinition<T>): void {
    this.lifecycle.assertNotStopped('addKeySpace');
    const config = resolveKeySpaceConfig(definition, this.options.keySpaceDefaults, 'keySpace');
    if (this.spaces.has(config.name)) throw keySpaceExists(config.name);
    this.spaces.set(config.name, this.createKeySpace(config));
    this.emit('keySpace', { type: 'added', name: config.name });
  }

  /**
   * Replaces a keyspace's configuration. Cached entries are kept unless the codec changed; a smaller
   * `maxBytes` evicts least recently used entries.
   * @throws DistCacheError `E_INVALID_OPTION`, `E_KEYSPACE_NOT_FOUND`, `E_ENGINE_STOPPED`
   */
  updateKeySpace<T>(definition: KeySpaceDefinition<T>): void {
    this.lifecycle.assertNotStopped('updateKeySpace');
    const config = resolveKeySpaceConfig(definition, this.options.keySpaceDefaults, 'keySpace');
    const space = this.spaces.get(config.name) as KeySpace<T> | undefined;
    if (space === undefined) throw keySpaceNotFound(config.name);
    space.reconfigure(config);
    this.emit('keySpace', { type: 'updated', name: config.name });
  }

  /**
   * Removes a keyspace and everything cached in it.
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_ENGINE_STOPPED`
   */
  async deleteKeySpace(name: string): Promise<void> {
    await this.deleteKeySpaces([name]);
  }

  /**
   * Removes several keyspaces; all names are checked before any is removed.
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_ENGINE_STOPPED`
   */
  async deleteKeySpaces(names: readonly string[]): Promise<void> {
    this.lifecycle.assertNotStopped('deleteKeySpace');
    for (const name of names) if (!this.spaces.has(name)) throw keySpaceNotFound(name);
    await Promise.resolve();
    for (const name of new Set(names)) {
      this.spaces.get(name)?.clear();
      this.spaces.delete(name);
      this.emit('keySpace', { type: 'deleted', name });
    }
  }

  /** Names of the registered keyspaces. */
  keySpaces(): string[] {
    return [...this.spaces.keys()];
  }

  /** Counters, occupancy and effective configuration of every keyspace on this node. */
  stats(): EngineStats {
    const keySpaces: EngineStats['keySpaces'] = {};
    for (const [name, space] of this.spaces) {
      keySpaces[name] = { ...space.stats(), config: snapshot(space) };
    }
    return { nodeName: this.options.nodeName, cluster: this.options.cluster, state: this.state, keySpaces };
  }

  /** Removes expired entries of every keyspace now; returns how many. Runs periodically on its own. */
  purgeExpired(): number {
    let purged = 0;
    for (const space of this.spaces.values()) purged += space.storage.purgeExpired();
    return purged;
  }

  private running<T>(keySpace: string, operation: string): KeySpace<T> {
    this.lifecycle.assertRunning(operation);
    const space = this.spaces.get(keySpace);
    if (space === undefined) throw keySpaceNotFound(keySpace);
    return space as KeySpace<T>;
  }

  private checkKey(space: { readonly name: string }, key: unknown): asserts key is string {
    if (typeof key !== 'string') throw invalidKey(space.name, `must be a string, got ${typeof key}`);
    if (key.length === 0) throw invalidKey(space.name, 'must not be empty');
    const limit = this.options.maxKeyBytes;
    // UTF-8 needs at least one byte per UTF-16 unit and at most three: skip the count when clear.
    if (key.length * 3 <= limit) return;
    const bytes = key.length > limit ? key.length : Buffer.byteLength(key, 'utf8');
    if (bytes > limit) throw invalidKey(space.name, `is ${bytes}+ bytes, over maxKeyBytes (${limit})`);
  }

  private checkKeys(space: { readonly name: string }, keys: readonly string[]): readonly string[] {
    if (!isList(keys)) throw invalidKey(space.name, 'expected an array of keys');
    for (const key of keys) this.checkKey(space, key);
    return keys;
  }

  private deadline(
    options: GetOptions | WriteOptions | undefined,
    field: string,
    defaultMs?: number,
  ): Deadline {
    const timeoutMs = options?.timeout === undefined ? defaultMs : toMs(options.timeout, field);
    return { signal: options?.signal, timeoutMs };
  }

  private createKeySpace<T>(config: KeySpace<T>['config']): KeySpace {
    return new KeySpace(config, { clock: this.options.clock, lifetime: this.lifetime.signal }) as KeySpace;
  }

  private schedulePurge(): void {
    const { clock, purgeIntervalMs } = this.options;
    this.purgeTimer = clock.setTimeout(() => {
      this.purgeExpired();
      if (this.lifecycle.state === 'running') this.schedulePurge();
    }, purgeIntervalMs);
  }
}

/** Array check that does not narrow a typed parameter to `any[]`. */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

function snapshot(space: KeySpace): KeySpaceConfigSnapshot {
  const config = space.config;
  return {
    maxBytes: config.maxBytes,
    maxValueBytes: config.maxValueBytes,
    ttlMs: config.ttlMs ?? null,
    negativeTtlMs: config.negativeTtlMs,
    readTimeoutMs: config.readTimeoutMs,
    writeTimeoutMs: config.writeTimeoutMs,
    valueMode: config.valueMode,
    codec: config.codec.name,
    hasDataSource: config.dataSource !== undefined,
    batchLoads: config.dataSource?.fetchMany !== undefined,
  };
}
