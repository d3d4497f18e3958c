import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { DistCacheEngine } from '../engine/engine';
import { keySpaceExists } from '../errors/messages';
import type { KeySpaceSettings } from '../keyspace/keyspace.options';

/** Options of {@link KeyvDistCache}. */
export interface KeyvDistCacheOptions extends KeySpaceSettings {
  /**
   * The keyspace the store keeps its entries in. The store registers it (with the other settings
   * given here) unless another `KeyvDistCache` on the same engine did; every node must create the
   * store with the same settings. It must not be a keyspace of your own.
   */
  keySpace: string;
}

/** Keys of namespace tokens start with this; data keys start with a token, never with `#`. */
const TOKEN_KEY_PREFIX = '#ns:';

/** Keyspaces created by a KeyvDistCache, per engine: a second store on one of them shares it. */
const created = new WeakMap<DistCacheEngine, Set<string>>();

/**
 * A Keyv storage adapter backed by the cluster: every replica reads what any replica wrote,
 * evictions and `clear()` reach every node, and values are held in the replicas' own memory (no
 * Redis). For Keyv, cache-manager 7 and `@nestjs/cache-manager`.
 *
 * Namespaces: Keyv prefixes keys with its namespace and expects `clear()` to empty that namespace
 * only. The engine cannot list keys across the cluster, so each namespace has a token, itself a
 * cache entry loaded once for the whole cluster by its owner; data keys carry it, and `clear()`
 * replaces it, which makes the old entries unreachable on every node at once (they are evicted by
 * the LRU or expire). A Keyv without a namespace clears the whole keyspace. There is no
 * `iterator()`: the engine does not list keys.
 *
 * @example
 * const keyv = new Keyv({ store: new KeyvDistCache(engine, { keySpace: 'http', maxBytes: 32 << 20 }) });
 * @throws DistCacheError `E_KEYSPACE_EXISTS` when the keyspace exists and was not created by a
 *   `KeyvDistCache`, `E_INVALID_OPTION` for invalid settings, `E_ENGINE_STOPPED`
 */
export class KeyvDistCache extends EventEmitter implements KeyvStoreAdapter {
  /** Keyv reads and sets options here (for example `deserialize`); the store ignores them. */
  opts: Record<string, unknown>;
  /** Set by Keyv: the namespace its keys are prefixed with. */
  namespace?: string | undefined;
  private readonly keySpace: string;

  constructor(
    private readonly engine: DistCacheEngine,
    options: KeyvDistCacheOptions,
  ) {
    super();
    const { keySpace, ...settings } = options;
    this.keySpace = keySpace;
    this.opts = { ...options };
    const ours = created.get(engine) ?? new Set<string>();
    if (!ours.has(keySpace)) {
      if (engine.keySpaces().includes(keySpace)) throw keySpaceExists(keySpace);
      // The owner of a token key makes the token, once for the whole cluster; data keys have no
      // source (a miss is a miss).
      engine.addKeySpace<unknown>({
        ...settings,
        name: keySpace,
        dataSource: {
          fetch: (key) =>
            key.startsWith(TOKEN_KEY_PREFIX) ? randomBytes(9).toString('base64url') : undefined,
        },
      });
      ours.add(keySpace);
      created.set(engine, ours);
    }
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.engine.get<StoredData<Value>>(this.keySpace, await this.dataKey(key));
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const token = await this.token();
    const found = await this.engine.getMany<StoredData<Value>>(
      this.keySpace,
      keys.map((key) => `${token}/${key}`),
    );
    return keys.map((key) => found.get(`${token}/${key}`));
  }

  /** Stores `value` for `ttl` milliseconds (no expiry when undefined). */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    await this.engine.put(this.keySpace, await this.dataKey(key), value, {
      ttl: typeof ttl === 'number' && ttl > 0 ? ttl : undefined,
    });
    return true;
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const token = await this.token();
    await this.engine.putMany(
      this.keySpace,
      entries.map(({ key, value, ttl }) => ({
        key: `${token}/${key}`,
        value,
        ttl: typeof ttl === 'number' && ttl > 0 ? ttl : undefined,
      })),
    );
  }

  /** True when the key's owner held a value for it. */
  async delete(key: string): Promise<boolean> {
    return this.engine.delete(this.keySpace, await this.dataKey(key));
  }

  /** True when every key held a value (as Keyv's own fallback reports it). */
  async deleteMany(keys: string[]): Promise<boolean> {
    const token = await this.token();
    const unique = new Set(keys);
    const removed = await this.engine.deleteMany(
      this.keySpace,
      [...unique].map((key) => `${token}/${key}`),
    );
    return unique.size > 0 && removed === unique.size;
  }

  /** Empties this store's namespace on every node (the whole keyspace when there is none). */
  async clear(): Promise<void> {
    if (this.namespace === undefined || this.namespace === '') await this.engine.clear(this.keySpace);
    else await this.engine.delete(this.keySpace, this.tokenKey());
  }

  /** The engine's lifecycle belongs to its owner: nothing to close here. */
  async disconnect(): Promise<void> {}

  private tokenKey(): string {
    return `${TOKEN_KEY_PREFIX}${this.namespace ?? ''}`;
  }

  private async token(): Promise<string> {
    return String(await this.engine.get<string>(this.keySpace, this.tokenKey()));
  }

  private async dataKey(key: string): Promise<string> {
    return `${await this.token()}/${key}`;
  }
}
