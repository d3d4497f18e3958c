import { AsyncLocalStorage } from 'node:async_hooks';
import type { FetchContext } from 'distcache-core';

const storage = new AsyncLocalStorage<FetchContext>();

/**
 * Inside a `@ReadThrough` method running as the data source (a cache miss, on the key's owner),
 * the load's context: `signal` aborts when the keyspace's `readTimeout` passes or the engine
 * stops. `undefined` when the method was called directly (engine not running). Pass the signal
 * to the database driver or `fetch()`, so abandoned work is cancelled.
 *
 * @example
 * ```ts
 * @ReadThrough('rates', { readTimeout: '2s' })
 * async rate(currency: string): Promise<Rate | undefined> {
 *   const response = await fetch(`${RATES_URL}/${currency}`, { signal: currentFetchContext()?.signal });
 *   return response.ok ? ((await response.json()) as Rate) : undefined;
 * }
 * ```
 */
export function currentFetchContext(): FetchContext | undefined {
  return storage.getStore();
}

/** Runs `load` with `context` visible to {@link currentFetchContext}. */
export function runWithFetchContext<T>(context: FetchContext, load: () => T): T {
  return storage.run(context, load);
}
