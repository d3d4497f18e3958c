import { EventEmitter, setMaxListeners } from 'node:events';
import type { ClusterCoordinator } from '../cluster/coordinator';
import type { PeerInfo } from '../cluster/peer-state';
import { isStandalone } from '../discovery/standalone.discovery';
import type { DistCacheError } from '../errors/distcache-error';
import {
  engineStopped,
  invalidKey,
  invalidOption,
  invalidValue,
  keySpaceExists,
  keySpaceNotFound,
} from '../errors/messages';
import type { BookkeepingLedger } from '../keyspace/bookkeeping';
import { KeySpace } from '../keyspace/keyspace';
import type { KeySpaceDefinition } from '../keyspace/keyspace.options';
import { normalizeTags } from '../keyspace/tag-versions';
import { type Deadline, throwIfAborted, waitFor } from '../util/abort';
import { TokenBucket } from '../datasource/token-bucket';
import { CoarseClock } from '../util/clock';
import { toMs } from '../util/duration';
import { ClusterWrites } from '../cluster/cluster-writes';
import { createCoordinator } from './coordinator.factory';
import { snapshot } from './engine.snapshot';
import { checkKey, checkKeys, isList } from '../keyspace/key-check';
import { WarmUp } from '../cluster/warm-up';
import type { EngineEvents, EngineState } from './engine.events';
import {
  type DistCacheEngineOptions,
  type ResolvedEngineOptions,
  resolveEngineKeySpace,
  resolveEngineOptions,
} from './engine.options';
import type { EngineStats, GetOptions, PutEntry, PutOptions, WriteOptions } from './engine.types';
import { Lifecycle } from './lifecycle';
import { EngineProbe } from '../telemetry/engine.probe';
import { createPeerRequestHandler } from '../cluster/peer-request.handler';
import { RemoteLoading } from '../cluster/remote-loader';
import { ReadRouter } from './read-router';
import { closest, type OptionFields, optionsObject } from '../util/options';

/** Fields of the per-call options of reads and writes (`GetOptions`, `WriteOptions`). */
const CALL_OPTIONS: OptionFields = { what: 'call option', fields: ['signal', 'timeout'] };
/** Fields of `put`'s options (`PutOptions`). */
const PUT_OPTIONS: OptionFields = { what: 'put option', fields: ['signal', 'timeout', 'ttl', 'tags'] };
/** Fields of one entry of `putMany` (`PutEntry`). */
const PUT_ENTRY_FIELDS: OptionFields = {
  what: 'putMany entry field',
  fields: ['key', 'value', 'ttl', 'tags'],
};

/**
 * The cache engine: keyspaces, read-through loading and, in a cluster, owner routing with hot
 * copies on the other nodes.
 *
 * @example
 * const engine = new DistCacheEngine({
 *   discovery: staticDiscovery({ peers: ['10.0.0.1:3320', '10.0.0.2:3320'] }),
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
  /** The read path: here, the data source, the owner, the fallback (read-router.ts). */
  private readonly router: ReadRouter;
  private readonly writes: ClusterWrites;
  private readonly warmUp: WarmUp;
  private refreshing = false;
  private purgeTimer: unknown;
  private readonly coarseClock: CoarseClock;
  /** The engine-wide bucket every keyspace's loads draw from, when `sharedRateLimit` is set. */
  private readonly sharedLimit: TokenBucket | undefined;
  /** Telemetry: OpenTelemetry and diagnostics channels, consulted with one boolean per call. */
  private readonly probe: EngineProbe;

  /** @throws DistCacheError `E_INVALID_OPTION` (naming the field) or `E_KEYSPACE_EXISTS` */
  constructor(options: DistCacheEngineOptions = {}) {
    super();
    this.options = resolveEngineOptions(options);
    const { nodeName, telemetry, logger } = this.options;
    this.probe = new EngineProbe({ nodeName, telemetry, logger });
    // Every load in flight listens on the lifetime signal; hundreds at once are normal.
    setMaxListeners(0, this.lifetime.signal);
    const { clock, clusterOptions } = this.options;
    this.coarseClock = new CoarseClock(clock);
    const shared = this.options.sharedRateLimit;
    this.sharedLimit = shared === undefined ? undefined : new TokenBucket(shared, clock, 'the engine');
    this.coordinator = this.createCoordinator();
    for (const config of this.options.keySpaces) this.spaces.set(config.name, this.createKeySpace(config));
    const remote = new RemoteLoading({
      coordinator: this.coordinator,
      clock,
      hotTtlMs: clusterOptions.hotTtlMs,
      maxBatchKeys: clusterOptions.maxBatchKeys,
      maxBatchKeyBytes: clusterOptions.maxBatchKeyBytes,
    });
    this.router = new ReadRouter({ coordinator: this.coordinator, remote, clock, probe: this.probe });
    this.writes = new ClusterWrites(
      this.coordinator,
      clusterOptions.broadcastTimeoutMs,
      clock,
      clusterOptions.failureTimeoutMs,
      this.ledger,
      {
        maxInFlightPerPeer: this.options.transport.maxInFlightPerPeer,
        maxFrameBytes: this.options.transport.maxFrameBytes,
        maxBatchKeyBytes: clusterOptions.maxBatchKeyBytes,
      },
    );
    this.warmUp = new WarmUp({
      spaces: this.spaces,
      maxKeyBytes: this.options.maxKeyBytes,
      coordinator: this.coordinator,
      clock,
      logger: this.options.logger,
    });
  }

  /** `idle`, `starting`, `running`, `stopping` or `stopped`. */
  get state(): EngineState {
    return this.lifecycle.state;
  }

  /**
   * Starts the engine: opens the peer listener, joins the cluster and starts background work.
   * Idempotent; concurrent calls share one start. A failed start releases everything it opened and
   * leaves the engine `idle`.
   * @throws DistCacheError `E_START_FAILED` (with `cause`), `E_ENGINE_STOPPED` after `stop()`
   */
  start(): Promise<void> {
    return this.lifecycle.start(async () => {
      await this.probe.start(() => this.stats());
      // Timers and connections opened while joining must not join the caller's trace.
      await this.probe
        .detached(() => this.join())
        .catch((error: unknown) => {
          this.probe.stop();
          throw error;
        });
    });
  }

  /** Opens the peer listener, joins the cluster and starts background work. */
  private async join(): Promise<void> {
    const handler = createPeerRequestHandler({
      nodeName: this.options.nodeName,
      clock: this.options.clock,
      maxKeyBytes: this.options.maxKeyBytes,
      spaces: this.spaces,
      accepting: () => this.lifecycle.state === 'running' || this.lifecycle.state === 'starting',
      dropKeySpace: (name) => this.removeKeySpace(name),
      dropElsewhere: (space, keys, writerId, budgetMs) =>
        this.writes.dropElsewhere(space, keys, writerId, budgetMs),
    });
    await this.coordinator.start(handler, this.lifetime.signal);
    this.schedulePurge();
    this.startRefreshAhead();
    await this.warmUp.warmStart();
  }

  /**
   * Tells peers this node leaves (they drop it at once), aborts loads in flight
   * (`E_ENGINE_STOPPED`) and frees memory. Idempotent. A stopped engine cannot be started again.
   */
  stop(): Promise<void> {
    return this.lifecycle.stop(async () => {
      this.options.clock.clearTimeout(this.purgeTimer);
      this.purgeTimer = undefined;
      this.warmUp.stop();
      this.writes.stop();
      try {
        await this.coordinator.stop();
      } finally {
        this.lifetime.abort(engineStopped('finish the load'));
        this.writes.clear();
        for (const space of this.spaces.values()) space.close();
        this.probe.stop();
      }
    });
  }

  /**
   * Reads a key: from the cache when present; else from its owner (a peer, which loads it once for
   * the whole cluster) or, when this node owns it, from the keyspace's data source. Resolves to
   * `undefined` when the source has no such key.
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_INVALID_KEY`, `E_DATASOURCE_FAILED`,
   *   `E_DATASOURCE_TIMEOUT`, `E_INVALID_VALUE`, `E_VALUE_TOO_LARGE`, `E_DECODE_FAILED` (a value
   *   encoded with another codec), `E_TIMEOUT`, `E_ABORTED`, `E_ENGINE_NOT_STARTED`, `E_ENGINE_STOPPED`
   */
  get<T = unknown>(keySpace: string, key: string, options?: GetOptions): Promise<T | undefined> {
    return this.probe.reads
      ? this.probe.get(this.spaces.get(keySpace), keySpace, key, () =>
          this.readKey<T>(keySpace, key, options),
        )
      : this.readKey<T>(keySpace, key, options);
  }

  // Not async: an async function returning the router's promise would cost extra promise jobs per get.
  private readKey<T>(keySpace: string, key: string, options?: GetOptions): Promise<T | undefined> {
    let space: KeySpace<T>;
    try {
      space = this.running<T>(keySpace, 'get');
      this.checkKey(space, key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.router.get(space, key, options, this);
  }

  /**
   * Reads several keys of one keyspace. Missing keys are loaded in parallel: one batched request per
   * owning peer (split when very large), and one `fetchMany` call for this node's own keys when the
   * data source has it. The map has one entry per distinct key, in request order.
   * @throws the first error of any key, after every key settled; see {@link get}
   */
  getMany<T = unknown>(
    keySpace: string,
    keys: readonly string[],
    options?: GetOptions,
  ): Promise<Map<string, T | undefined>> {
    return this.probe.batchReads
      ? this.probe.getMany(keySpace, keys, () => this.readKeys<T>(keySpace, keys, options))
      : this.readKeys<T>(keySpace, keys, options);
  }

  private async readKeys<T>(
    keySpace: string,
    keys: readonly string[],
    options?: GetOptions,
  ): Promise<Map<string, T | undefined>> {
    const space = this.running<T>(keySpace, 'getMany');
    const unique = [...new Set(this.checkKeys(space, keys))];
    return this.router.getMany(space, unique, options, this);
  }

  /**
   * Stores a value. In a cluster the owner stores it and every other node drops its hot copy before
   * the call resolves, so no reachable node serves the old value afterwards.
   * @throws DistCacheError `E_INVALID_VALUE` (undefined or not encodable), `E_VALUE_TOO_LARGE`,
   *   `E_INVALID_KEY`, `E_KEYSPACE_NOT_FOUND`, `E_INVALID_OPTION` (bad ttl), `E_PEER_UNAVAILABLE`
   *   (owner unreachable), `E_TIMEOUT`, engine state errors
   */
  async put<T = unknown>(keySpace: string, key: string, value: T, options?: PutOptions): Promise<void> {
    if (options == null) return this.putMany<T>(keySpace, [{ key, value }]);
    optionsObject(options, 'options', PUT_OPTIONS);
    const { ttl, tags, signal, timeout } = options;
    // Converted here, so a bad ttl is named as the caller wrote it (not "entries[0].ttl").
    const ttlMs = ttl === undefined ? undefined : toMs(ttl, 'options.ttl');
    await this.putMany<T>(keySpace, [{ key, value, ttl: ttlMs, tags }], { signal, timeout });
  }

  /**
   * Stores several values. Every entry is validated and encoded before anything is stored, so a bad
   * entry leaves the cache unchanged.
   * @throws see {@link put}
   */
  putMany<T = unknown>(
    keySpace: string,
    entries: ReadonlyArray<PutEntry<T>>,
    options?: WriteOptions,
  ): Promise<void> {
    return this.probe.writes
      ? this.probe.write('put', keySpace, entries, () => this.writeEntries(keySpace, entries, options))
      : this.writeEntries(keySpace, entries, options);
  }

  private async writeEntries<T>(
    keySpace: string,
    entries: ReadonlyArray<PutEntry<T>>,
    options?: WriteOptions,
  ): Promise<void> {
    const space = this.running<T>(keySpace, 'put');
    if (!isList(entries)) throw invalidKey(keySpace, 'putMany expects an array of { key, value, ttl? }');
    const prepared = entries.map((entry, index) => {
      if (typeof entry !== 'object' || entry === null)
        throw invalidKey(keySpace, `entries[${index}] must be an object { key, value, ttl?, tags? }`);
      optionsObject(entry, `entries[${index}]`, PUT_ENTRY_FIELDS);
      this.checkKey(space, entry.key);
      const ttlMs = entry.ttl === undefined ? undefined : toMs(entry.ttl, `entries[${index}].ttl`);
      // A zero ttl stores nothing: the value would be expired at once. It acts as a delete.
      const bytes = ttlMs === 0 ? undefined : space.encode(entry.key, entry.value);
      const tags = bytes === undefined ? undefined : space.tagsOf(entry.key, entry.value, entry.tags);
      return { key: entry.key, bytes, expiresAt: space.expiryFor(ttlMs), tags };
    });
    const deadline = this.deadline(options, 'timeout', space.config.writeTimeoutMs);
    throwIfAborted(deadline, `put into "${keySpace}"`);
    space.countPuts(prepared.length);
    await waitFor(
      this.writes.put(space as KeySpace, prepared, deadline),
      deadline,
      this.options.clock,
      `put into "${keySpace}"`,
    );
  }

  /**
   * Removes a key on its owner and drops every copy of it in the cluster; a load in flight for it
   * will not store its result. Resolves to true when the owner held a value for it (a
   * remembered "not found" or an expired entry is not one; an owner of an older version does not
   * say, and counts as true).
   * @throws DistCacheError `E_INVALID_KEY`, `E_KEYSPACE_NOT_FOUND`, `E_PEER_UNAVAILABLE`,
   *   `E_TIMEOUT`, engine state errors
   */
  async delete(keySpace: string, key: string, options?: WriteOptions): Promise<boolean> {
    return (await this.deleteMany(keySpace, [key], options)) > 0;
  }

  /**
   * Removes several keys (requests of at most 4,096 keys per owner); all keys are validated before any is removed.
   * Resolves to how many of the distinct keys held a value (see {@link delete}).
   * @throws see {@link delete}
   */
  deleteMany(keySpace: string, keys: readonly string[], options?: WriteOptions): Promise<number> {
    return this.probe.writes
      ? this.probe.write('delete', keySpace, keys, () => this.removeKeys(keySpace, keys, options))
      : this.removeKeys(keySpace, keys, options);
  }

  private async removeKeys(
    keySpace: string,
    keys: readonly string[],
    options?: WriteOptions,
  ): Promise<number> {
    const space = this.running(keySpace, 'delete');
    const checked = [...new Set(this.checkKeys(space, keys))];
    const deadline = this.deadline(options, 'timeout', space.config.writeTimeoutMs);
    throwIfAborted(deadline, `delete from "${keySpace}"`);
    space.countDeletes(checked.length);
    return waitFor(
      this.writes.delete(space, checked, deadline),
      deadline,
      this.options.clock,
      `delete from "${keySpace}"`,
    );
  }

  /**
   * Removes every entry of a keyspace that carries one of `tags` (given on `put` or computed by
   * the keyspace's `tags` function), owned entries and hot copies, on every reachable node. Once it
   * resolves, no reachable node returns such an entry, and a load in flight when it was called
   * does not store a result carrying one of them (without a keyspace `tags` function a loaded
   * value carries none, and such loads are left to finish). O(tags) on each node: entries are
   * checked when read (see docs/reliability.md, "Tags").
   * @throws DistCacheError `E_INVALID_VALUE` (bad tags), `E_KEYSPACE_NOT_FOUND`, `E_TIMEOUT`,
   *   engine state errors
   */
  async deleteByTags(keySpace: string, tags: readonly string[], options?: WriteOptions): Promise<void> {
    const space = this.running(keySpace, 'deleteByTags');
    // No list at all is a mistake here (on a put, no tags is a normal case); an empty one deletes nothing.
    const checked = tags == null ? 'tags must be an array of strings' : normalizeTags(tags);
    if (typeof checked === 'string') throw invalidValue(keySpace, '(tags)', checked);
    if (checked === undefined) return;
    const deadline = this.deadline(options, 'timeout', space.config.writeTimeoutMs);
    throwIfAborted(deadline, `deleteByTags in "${keySpace}"`);
    await waitFor(
      this.writes.invalidateTags(space, checked),
      deadline,
      this.options.clock,
      `deleteByTags in "${keySpace}"`,
    );
  }

  /**
   * Drops every entry of a keyspace on every reachable node, keeping the keyspace and its settings
   * (unlike {@link deleteKeySpace}); loads in flight will not store their result.
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, engine state errors
   */
  async clear(keySpace: string): Promise<void> {
    const space = this.running(keySpace, 'clear');
    space.clear();
    await this.writes.clearKeySpace(keySpace);
  }

  /**
   * Registers a keyspace at runtime (before or after `start`). Every node that serves it should
   * register it with the same settings.
   * @throws DistCacheError `E_INVALID_OPTION`, `E_KEYSPACE_EXISTS`, `E_ENGINE_STOPPED`
   */
  addKeySpace<T>(definition: KeySpaceDefinition<T>): void {
    this.lifecycle.assertNotStopped('addKeySpace');
    const config = resolveEngineKeySpace(definition, this.options, 'keySpace');
    if (this.spaces.has(config.name)) throw keySpaceExists(config.name);
    this.spaces.set(config.name, this.createKeySpace(config));
    this.enforceBookkeeping(config.name);
    if (this.lifecycle.state === 'running') this.startRefreshAhead();
    this.emit('keySpace', { type: 'added', name: config.name });
  }

  /**
   * Replaces a keyspace's configuration on this node. Cached entries are kept unless the codec
   * changed; a smaller `maxBytes` evicts least recently used entries.
   * @throws DistCacheError `E_INVALID_OPTION`, `E_KEYSPACE_NOT_FOUND`, `E_ENGINE_STOPPED`
   */
  updateKeySpace<T>(definition: KeySpaceDefinition<T>): void {
    this.lifecycle.assertNotStopped('updateKeySpace');
    const config = resolveEngineKeySpace(definition, this.options, 'keySpace');
    const space = this.spaces.get(config.name) as KeySpace<T> | undefined;
    if (space === undefined) throw this.unknownKeySpace(config.name);
    space.reconfigure(config);
    this.enforceBookkeeping(config.name);
    if (this.lifecycle.state === 'running') this.startRefreshAhead();
    this.emit('keySpace', { type: 'updated', name: config.name });
  }

  /**
   * Removes a keyspace and everything cached in it, on every reachable node.
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_ENGINE_STOPPED`
   */
  async deleteKeySpace(name: string): Promise<void> {
    await this.deleteKeySpaces([name]);
  }

  /**
   * Removes several keyspaces cluster-wide; all names are checked before any is removed.
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_ENGINE_STOPPED`
   */
  async deleteKeySpaces(names: readonly string[]): Promise<void> {
    this.lifecycle.assertNotStopped('deleteKeySpace');
    for (const name of names) if (!this.spaces.has(name)) throw this.unknownKeySpace(name);
    for (const name of new Set(names)) {
      this.removeKeySpace(name);
      if (this.lifecycle.state === 'running') await this.writes.dropKeySpace(name);
    }
  }

  /** Names of the registered keyspaces. */
  keySpaces(): string[] {
    return [...this.spaces.keys()];
  }

  /**
   * The id (`host:port`) of the node that owns `key` now; this node's own id when it owns it.
   * Ownership moves when members join or leave.
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_INVALID_KEY` (as `get` would: an answer for a
   *   keyspace or key no call could use misled callers)
   */
  ownerOf(keySpace: string, key: string): string {
    if (!this.spaces.has(keySpace)) throw this.unknownKeySpace(keySpace);
    this.checkKey({ name: keySpace }, key);
    return (this.coordinator.ownerOf(keySpace, key) ?? this.coordinator.self()).id;
  }

  /** This node and every peer it knows, with state and ownership share. */
  peers(): PeerInfo[] {
    return this.coordinator.peers();
  }

  /** Counters, occupancy and effective configuration of every keyspace on this node. */
  stats(): EngineStats {
    const keySpaces: EngineStats['keySpaces'] = {};
    for (const [name, space] of this.spaces) keySpaces[name] = { ...space.stats(), config: snapshot(space) };
    return {
      nodeName: this.options.nodeName,
      cluster: this.options.cluster,
      state: this.state,
      members: this.coordinator.members().length,
      keySpaces,
    };
  }

  /** Removes expired entries of every keyspace now; returns how many. Runs periodically on its own. */
  purgeExpired(): number {
    let purged = 0;
    for (const space of this.spaces.values()) purged += space.purgeExpired();
    return purged;
  }

  private removeKeySpace(name: string): void {
    const space = this.spaces.get(name);
    if (space === undefined) return;
    space.close();
    this.spaces.delete(name);
    // What the cluster layer keeps for it (invalidations peers missed, keys written lately) is
    // turned into keyspace clears and released: nothing charges it any more.
    this.enforceBookkeeping(name);
    this.emit('keySpace', { type: 'deleted', name });
  }

  private running<T>(keySpace: string, operation: string): KeySpace<T> {
    this.lifecycle.assertRunning(operation);
    const space = this.spaces.get(keySpace);
    if (space === undefined) throw this.unknownKeySpace(keySpace);
    return space as KeySpace<T>;
  }

  /** `E_KEYSPACE_NOT_FOUND` naming the keyspaces this node has, and the one meant if it is a typo. */
  private unknownKeySpace(name: unknown): DistCacheError {
    const known = [...this.spaces.keys()];
    return keySpaceNotFound(String(name), known, typeof name === 'string' ? closest(name, known) : undefined);
  }

  private checkKey(space: { readonly name: string }, key: unknown): asserts key is string {
    checkKey(space.name, key, this.options.maxKeyBytes);
  }

  private checkKeys(space: { readonly name: string }, keys: readonly string[]): readonly string[] {
    return checkKeys(space.name, keys, this.options.maxKeyBytes);
  }

  /** The caller's bound of one call; for reads `field` is `'timeout'`. @throws DistCacheError `E_INVALID_OPTION` */
  deadline(options: GetOptions | WriteOptions | undefined, field: string, defaultMs?: number): Deadline {
    // A misspelt field (`timout`) is refused as the constructor refuses one, not ignored.
    if (options != null) optionsObject(options, 'options', CALL_OPTIONS);
    const timeoutMs = options?.timeout === undefined ? defaultMs : toMs(options.timeout, field);
    // null reads as no signal, as it does for fetch().
    const signal = options?.signal ?? undefined;
    if (signal !== undefined && !isAbortSignal(signal)) {
      throw invalidOption('signal', 'must be an AbortSignal', signal);
    }
    return { signal, timeoutMs };
  }

  private createKeySpace<T>(config: KeySpace<T>['config']): KeySpace {
    const standalone = isStandalone(this.options.discovery);
    const hotShare = standalone ? 0 : this.options.clusterOptions.hotShare;
    const coarse = this.coarseClock;
    return new KeySpace(config, {
      clock: this.options.clock,
      readNow: () => coarse.now(),
      lifetime: this.lifetime.signal,
      hotShare,
      handOffGuardMs: standalone ? undefined : this.options.clusterOptions.broadcastTimeoutMs,
      sharedLimit: this.sharedLimit,
      probe: this.probe,
      onEvent: (event) => {
        if (event.type === 'breaker') this.emit('breaker', { keySpace: event.keySpace, state: event.state });
        else this.emit('stale', { keySpace: event.keySpace, key: event.key, reason: event.reason });
      },
    }) as KeySpace;
  }

  /** Charges a keyspace, by name, what the cluster layer keeps for it (`keyspace/bookkeeping.ts`). */
  private readonly ledger: BookkeepingLedger = {
    // A keyspace not (or no longer) here allows nothing: what is kept for it becomes a clear.
    limit: (name) => this.spaces.get(name)?.bookkeepingLimit ?? 0,
    charge: (name, part, bytes) => this.spaces.get(name)?.charge(part, bytes),
  };

  /**
   * Brings what the cluster layer keeps for a keyspace within its budget now and charges it (its
   * `maxBytes` changed, or a keyspace of that name was added again).
   */
  private enforceBookkeeping(name: string): void {
    this.coordinator.enforceBookkeeping?.(name);
    this.writes.enforce(name);
  }

  private createCoordinator(): ClusterCoordinator {
    return createCoordinator(this.options, {
      wrapTransport: (transport) => this.probe.transport(transport),
      ledger: this.ledger,
      turnClock: this.coarseClock,
      onPeerEvent: (event) => {
        this.emit('peer', event);
        this.probe.membership(event, () => this.coordinator.members().length);
        this.warmUp.scheduleRebalance(event);
        if (event.type === 'joined') this.writes.replayTo(event.peer);
      },
    });
  }

  /** Starts the refresh-ahead loop once some keyspace asks for it. */
  private startRefreshAhead(): void {
    if (this.refreshing) return;
    if (![...this.spaces.values()].some((space) => space.config.refreshAheadMs !== undefined)) return;
    this.refreshing = true;
    this.warmUp.startRefreshAhead();
  }

  private schedulePurge(): void {
    const { clock, purgeIntervalMs } = this.options;
    this.purgeTimer = clock.setTimeout(() => {
      this.purgeExpired();
      // Writes older than the replay window are forgotten here too, not only on the next write.
      this.writes.forgetOld();
      if (this.lifecycle.state === 'running') this.schedulePurge();
    }, purgeIntervalMs);
  }
}

/** An AbortSignal, also one of another realm or a compatible implementation (duck-typed). */
function isAbortSignal(value: unknown): value is AbortSignal {
  const signal = value as Partial<AbortSignal> | null;
  if (typeof signal !== 'object' || signal === null) return false;
  try {
    return (
      typeof signal.aborted === 'boolean' &&
      typeof signal.addEventListener === 'function' &&
      typeof signal.removeEventListener === 'function'
    );
  } catch {
    // A getter or proxy trap that throws: not a signal (E_INVALID_OPTION, not a bare error).
    return false;
  }
}
