/** What the cache hands the data source with every call. */
export interface FetchContext {
  /**
   * Aborted when the load must stop: the read timeout passed or the engine is stopping. Pass it to
   * your database driver or `fetch()` so abandoned work is cancelled.
   */
  readonly signal: AbortSignal;
  /** The keyspace being loaded. */
  readonly keySpace: string;
}

/**
 * The source of truth behind a keyspace. The cache calls it on a miss, once per key at a time
 * (concurrent misses share one call), and caches what it returns.
 *
 * @example
 * const products: DataSource<Product> = {
 *   fetch: async (id, { signal }) => (await db.query(sql, [id], { signal })).rows[0] ?? undefined,
 * };
 */
export interface DataSource<T> {
  /**
   * Loads one key. Resolve to the value, or to `undefined` when there is no such key ("not found"
   * is a normal answer, never an error). Throw or reject for a real failure.
   */
  fetch(key: string, context: FetchContext): Promise<T | undefined> | T | undefined;
  /**
   * Optional batch load used by `getMany` for several missing keys at once (one `IN (...)` query
   * instead of N). Keys absent from the returned map are "not found".
   */
  fetchMany?(
    keys: readonly string[],
    context: FetchContext,
  ): Promise<ReadonlyMap<string, T | undefined>> | ReadonlyMap<string, T | undefined>;
}

/** A bare fetch function is accepted wherever a {@link DataSource} is. */
export type FetchFunction<T> = DataSource<T>['fetch'];

/** Accepts an object with `fetch` or a bare function and returns the object form. */
export function toDataSource<T>(source: DataSource<T> | FetchFunction<T>): DataSource<T> {
  return typeof source === 'function' ? { fetch: source } : source;
}
