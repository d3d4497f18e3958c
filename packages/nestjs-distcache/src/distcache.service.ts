import { Inject, Injectable } from '@nestjs/common';
import type {
  DistCacheEngine,
  EngineState,
  EngineStats,
  GetOptions,
  KeySpaceDefinition,
  PeerInfo,
  PutEntry,
  PutOptions,
  WriteOptions,
} from 'distcache-core';
import type { Observable } from 'rxjs';
import { DISTCACHE_ENGINE } from './distcache.constants';
import { type DistCacheEvent, engineEvents } from './distcache.events';

/**
 * The cache, injectable anywhere the module is visible. Every method is the engine's, typed by the
 * value type you name; errors are `DistCacheError`s with a stable `code`.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class PricesService {
 *   constructor(private readonly cache: DistCacheService) {}
 *
 *   price(sku: string): Promise<Price | undefined> {
 *     return this.cache.get<Price>('prices', sku);
 *   }
 * }
 * ```
 */
@Injectable()
export class DistCacheService {
  /**
   * Cluster and keyspace events of this node: `peer` (joined / left / updated), `keySpace`
   * (added / updated / deleted), `breaker`, `stale` and `state`. Completes when the engine stops.
   * @example
   * ```ts
   * this.cache.events$
   *   .pipe(filter((event) => event.kind === 'peer'))
   *   .subscribe((event) => this.logger.log(`${event.peer.id} ${event.type}`));
   * ```
   */
  readonly events$: Observable<DistCacheEvent>;

  constructor(@Inject(DISTCACHE_ENGINE) private readonly engine: DistCacheEngine) {
    this.events$ = engineEvents(engine);
  }

  /** `idle` before the application bootstraps, `running` once it did, `stopped` after shutdown. */
  get state(): EngineState {
    return this.engine.state;
  }

  /**
   * Reads a key through the cache: a hit, else the owner node loads it once for the cluster.
   * Resolves `undefined` when the data source has no such key.
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_INVALID_KEY`, `E_DATASOURCE_FAILED`,
   *   `E_DATASOURCE_TIMEOUT`, `E_TIMEOUT`, `E_ABORTED`, `E_ENGINE_NOT_STARTED`, `E_ENGINE_STOPPED`
   * @example const user = await this.cache.get<User>('users', id);
   */
  get<T>(keySpace: string, key: string, options?: GetOptions): Promise<T | undefined> {
    return this.engine.get<T>(keySpace, key, options);
  }

  /**
   * Reads several keys; one batched request per owner node. One map entry per distinct key.
   * @throws see {@link get}
   * @example const users = await this.cache.getMany<User>('users', ids);
   */
  getMany<T>(
    keySpace: string,
    keys: readonly string[],
    options?: GetOptions,
  ): Promise<Map<string, T | undefined>> {
    return this.engine.getMany<T>(keySpace, keys, options);
  }

  /**
   * Stores a value on the key's owner; other nodes drop their copies before this resolves.
   * @throws DistCacheError `E_INVALID_VALUE`, `E_VALUE_TOO_LARGE`, `E_INVALID_KEY`,
   *   `E_KEYSPACE_NOT_FOUND`, `E_PEER_UNAVAILABLE`, `E_TIMEOUT`
   * @example await this.cache.put('users', user.id, user, { ttl: '1m' });
   */
  put<T>(keySpace: string, key: string, value: T, options?: PutOptions): Promise<void> {
    return this.engine.put<T>(keySpace, key, value, options);
  }

  /**
   * Stores several values; all are validated before any is stored.
   * @throws see {@link put}
   * @example await this.cache.putMany('users', users.map((user) => ({ key: user.id, value: user })));
   */
  putMany<T>(keySpace: string, entries: ReadonlyArray<PutEntry<T>>, options?: WriteOptions): Promise<void> {
    return this.engine.putMany<T>(keySpace, entries, options);
  }

  /**
   * Removes a key everywhere in the cluster; a load in flight for it does not store its result.
   * Resolves to true when the key's owner held a value for it.
   * @throws DistCacheError `E_INVALID_KEY`, `E_KEYSPACE_NOT_FOUND`, `E_PEER_UNAVAILABLE`, `E_TIMEOUT`
   * @example const removed = await this.cache.delete('users', id);
   */
  delete(keySpace: string, key: string, options?: WriteOptions): Promise<boolean> {
    return this.engine.delete(keySpace, key, options);
  }

  /**
   * Removes several keys everywhere (one request per owner); resolves to how many held a value.
   * @throws see {@link delete}
   * @example await this.cache.deleteMany('users', ids);
   */
  deleteMany(keySpace: string, keys: readonly string[], options?: WriteOptions): Promise<number> {
    return this.engine.deleteMany(keySpace, keys, options);
  }

  /**
   * Removes every entry carrying one of `tags` (given on `put`, or computed by the keyspace's
   * `tags` function), owned entries and hot copies, on every reachable node; a load in flight does
   * not store its result.
   * @throws DistCacheError `E_INVALID_VALUE` (bad tags), `E_KEYSPACE_NOT_FOUND`, `E_TIMEOUT`
   * @example await this.cache.deleteByTags('products', [`category:${categoryId}`]);
   */
  deleteByTags(keySpace: string, tags: readonly string[], options?: WriteOptions): Promise<void> {
    return this.engine.deleteByTags(keySpace, tags, options);
  }

  /**
   * Drops every entry of a keyspace on every reachable node, keeping the keyspace, its settings and
   * its data source: the way to empty a `@ReadThrough` keyspace (the next calls load afresh).
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_ENGINE_NOT_STARTED`, `E_ENGINE_STOPPED`
   * @example await this.cache.clear('products');
   */
  clear(keySpace: string): Promise<void> {
    return this.engine.clear(keySpace);
  }

  /**
   * Registers a keyspace at runtime on this node (register it on every node).
   * @throws DistCacheError `E_INVALID_OPTION`, `E_KEYSPACE_EXISTS`, `E_ENGINE_STOPPED`
   * @example this.cache.addKeySpace<Rate>({ name: 'rates', ttl: '1m', dataSource: { fetch: loadRate } });
   */
  addKeySpace<T>(definition: KeySpaceDefinition<T>): void {
    this.engine.addKeySpace(definition);
  }

  /**
   * Replaces a keyspace's settings on this node; entries are kept unless the codec changed.
   * @throws DistCacheError `E_INVALID_OPTION`, `E_KEYSPACE_NOT_FOUND`, `E_ENGINE_STOPPED`
   * @example this.cache.updateKeySpace({ ...ratesDefinition, ttl: '5m' });
   */
  updateKeySpace<T>(definition: KeySpaceDefinition<T>): void {
    this.engine.updateKeySpace(definition);
  }

  /**
   * Removes a keyspace and its entries on every reachable node. A keyspace a `@ReadThrough` or
   * `@KeySpace` declared comes back at once, empty, with its decorator's settings (use `clear()`).
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_ENGINE_STOPPED`
   * @example await this.cache.deleteKeySpace('rates');
   */
  deleteKeySpace(name: string): Promise<void> {
    return this.engine.deleteKeySpace(name);
  }

  /**
   * Removes several keyspaces cluster-wide; all names are checked first.
   * @throws DistCacheError `E_KEYSPACE_NOT_FOUND`, `E_ENGINE_STOPPED`
   * @example await this.cache.deleteKeySpaces(['rates', 'quotes']);
   */
  deleteKeySpaces(names: readonly string[]): Promise<void> {
    return this.engine.deleteKeySpaces(names);
  }

  /**
   * Names of the keyspaces registered on this node.
   * @example this.cache.keySpaces(); // ['products', 'users']
   */
  keySpaces(): string[] {
    return this.engine.keySpaces();
  }

  /**
   * Counters, occupancy and effective settings of every keyspace on this node, and the member count.
   * @example const { members, keySpaces } = this.cache.stats();
   */
  stats(): EngineStats {
    return this.engine.stats();
  }

  /**
   * This node and every peer it knows, with status (`self`, `alive`, `suspect`, `pending`, `left`).
   * @example const alive = this.cache.peers().filter((peer) => peer.status === 'alive');
   */
  peers(): PeerInfo[] {
    return this.engine.peers();
  }

  /**
   * Id (`host:port`) of the node that owns a key now.
   * @example this.cache.ownerOf('users', id); // '10.0.0.2:3320'
   */
  ownerOf(keySpace: string, key: string): string {
    return this.engine.ownerOf(keySpace, key);
  }
}
