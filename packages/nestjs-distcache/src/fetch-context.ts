import { AsyncLocalStorage } from 'node:async_hooks';
import type { FetchContext } from 'distcache-core';

const storage = new AsyncLocalStorage<FetchContext>();

/**
 * Loads running inside {@link storage}. On Node 20 and 22 a storage in use turns on async hooks for
 * the whole process, and they stayed on after the first miss: every promise and native callback of
 * every request then paid for context propagation (an `await` ~5x dearer; ~2.5% of the
 * e2e-http bench's CPU in the hooks themselves, hits included). The storage is enabled only while
 * at least one load runs, and disabled when the last one settles.
 */
let running = 0;

function settled(): void {
  running -= 1;
  // If another AsyncLocalStorage of the process (OpenTelemetry, nestjs-cls) is in use the hooks
  // stay on for it; disable() then only exits this storage's contexts.
  if (running === 0) storage.disable();
}

/**
 * Inside a `@ReadThrough` method running as the data source (a cache miss, on the key's owner),
 * the load's context: `signal` aborts when the keyspace's `readTimeout` passes or the engine
 * stops. `undefined` when the method was called directly (engine not running), and once the
 * method's promise has settled (in work it left running). A call that was waiting on the cache when
 * the engine stopped is finished by the method with a context of its own, whose signal aborts at
 * the keyspace's `readTimeout`. Pass the signal to the database driver
 * or `fetch()`, so abandoned work is cancelled.
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * Runs `load` with `context` visible to {@link currentFetchContext} until what it returns settles.
 */
export function runWithFetchContext<T>(context: FetchContext, load: () => T): T {
  running += 1;
  let result: T;
  try {
    result = storage.run(context, load);
  } catch (error) {
    settled();
    throw error;
  }
  if (isThenable(result)) result.then(settled, settled);
  else settled();
  return result;
}
