import {
  DEFAULT_READ_TIMEOUT,
  DistCacheError,
  type DistCacheEngine,
  isDistCacheError,
  type KeySpaceDefinition,
  toMs,
} from 'distcache-core';
import type { ReadThroughMetadata } from '../decorators/decorator.types';
import { runWithFetchContext } from '../fetch-context';
import { decodeArguments, methodShape } from '../keys/method-key';
import { fromDecorator, keyWithoutArgs } from './bootstrap-errors';
import { callKey, type KeySite, keyRefused } from './call-key';
import { callerError } from './caller-error';
import { argsFunction, decoratorOptions } from './decorator-options';
import { cacheAvailable, type Method, replaceMethod } from './method-wiring';

/** A decorated method of one provider instance. */
export interface MethodSite {
  readonly instance: object;
  readonly prototype: object;
  readonly name: string;
  readonly original: Method;
  /** `ClassName.method`, for messages. */
  readonly label: string;
}

/**
 * Checks the options of a `@ReadThrough` the core does not check (it checks the keyspace settings
 * when the keyspace is registered): an object, `key` and `args` functions, both or neither.
 * @throws DistCacheError `E_INVALID_OPTION`
 */
export function checkReadThrough(where: string, metadata: ReadThroughMetadata): void {
  const options = decoratorOptions(where, metadata.options);
  const key = argsFunction(where, options.key, 'key');
  const args = argsFunction(where, options.args, 'args');
  if ((key === undefined) !== (args === undefined)) throw keyWithoutArgs(where);
}

/**
 * Registers the keyspace of a `@ReadThrough` with the method as its data source. The source calls
 * the original method (never the wrapper) on `site.instance`, with the arguments decoded from the
 * key: this is what the owner node runs for a miss from anywhere in the cluster. Returns the
 * definition, to register it again if the keyspace is deleted.
 * @throws DistCacheError `E_INVALID_OPTION` for invalid keyspace settings, prefixed with `where`
 */
export function registerReadThroughKeySpace(
  engine: DistCacheEngine,
  site: MethodSite,
  metadata: ReadThroughMetadata,
  where: string,
): KeySpaceDefinition<unknown> {
  const { key: _key, args, ...settings } = metadata.options;
  const shape = methodShape(site.prototype, site.name);
  const decode = args ?? ((key: string) => decodeArguments(key, shape));
  const definition: KeySpaceDefinition<unknown> = {
    ...settings,
    name: metadata.keySpace,
    dataSource: {
      fetch: async (key, context) => {
        const callArgs = await decode(key);
        return runWithFetchContext(context, () => site.original.apply(site.instance, [...callArgs]));
      },
    },
  };
  try {
    engine.addKeySpace(definition);
  } catch (error) {
    throw fromDecorator(where, error);
  }
  return definition;
}

/**
 * Sends every call of the method through `engine.get`; the key is derived from the arguments. A
 * call still waiting when the engine stops (application shutdown) is finished by the method, so
 * requests being drained do not fail with `E_ENGINE_STOPPED` (see {@link AfterStop}); calls made
 * after the stop go to the method directly, or join the run of their key while one goes on. A call
 * whose arguments cannot be encoded rejects with `E_INVALID_KEY` (see {@link callKey}).
 */
export function wrapReadThrough(
  engine: DistCacheEngine,
  site: MethodSite,
  metadata: ReadThroughMetadata,
): void {
  const { keySpace, options } = metadata;
  const shape = methodShape(site.prototype, site.name);
  const deriveKey = options.key as ((...args: unknown[]) => string) | undefined;
  const { original } = site;
  const keySite: KeySite = {
    where: `@ReadThrough('${keySpace}') on ${site.label}`,
    keySpace,
    label: site.label,
    custom: '`key` and `args` functions, which replace the encoding in both directions',
    expected: 'a non-empty string',
  };
  const afterStop = new AfterStop(engine, keySpace);
  const { maxKeyBytes } = engine.options;
  const keyOf = (args: unknown[]): string =>
    deriveKey === undefined ? callKey(keySite, args, shape) : deriveKey(...args);
  const wrapped = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    if (!cacheAvailable(engine)) {
      // While the calls left waiting at the stop are being finished, a new call of the same key
      // joins that run (one run per key); otherwise, or when its key cannot be made, the method.
      if (afterStop.idle) return original.apply(this, args);
      let joined: Promise<unknown> | undefined;
      try {
        joined = afterStop.join(keyOf(args));
      } catch {
        joined = undefined;
      }
      return joined ?? original.apply(this, args);
    }
    const key = keyOf(args);
    try {
      return await engine.get(keySpace, key);
    } catch (error) {
      if (isDistCacheError(error, 'E_ENGINE_STOPPED'))
        return afterStop.finish(key, () => original.apply(this, args));
      // The method's own errors arrive as E_DATASOURCE_FAILED: this one is about the key.
      if (isDistCacheError(error, 'E_INVALID_KEY'))
        throw keyRefused(keySite, error, { key, fromKeyFunction: deriveKey !== undefined, maxKeyBytes });
      throw callerError(error);
    }
  };
  replaceMethod(site.instance, site.name, original, wrapped);
}

/**
 * Finishes the calls of one `@ReadThrough` method that were waiting on the cache when the engine
 * stopped (it aborts its loads). The method runs once per key for all of them, as the engine's
 * single-flight would have, within the keyspace's read timeout and with a load context whose
 * signal aborts at that timeout (`currentFetchContext()`): the calls then end as a load of the
 * running engine would. Before, each waiting call ran the method again on its own, unbounded: a
 * method that hung held the application's shutdown open, and 3 callers of 2 keys made 5 source
 * calls (found by an outside test).
 */
class AfterStop {
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(
    private readonly engine: DistCacheEngine,
    private readonly keySpace: string,
  ) {}

  /** True when no run is in flight: a call after the stop goes to the method, joining nothing. */
  get idle(): boolean {
    return this.running.size === 0;
  }

  /**
   * The outcome of the run in flight for `key`, if any. Each caller but the first gets its own
   * copy (`structuredClone`), as each got its own object from the method before; one that cannot
   * be cloned (it holds functions) is shared.
   */
  join(key: string): Promise<unknown> | undefined {
    return this.running.get(key)?.then(ownCopy);
  }

  finish(key: string, run: () => unknown): Promise<unknown> {
    const joined = this.join(key);
    if (joined !== undefined) return joined;
    const finished = this.bounded(key, run);
    this.running.set(key, finished);
    const done = (): void => void this.running.delete(key);
    finished.then(done, done);
    return finished;
  }

  private bounded(key: string, run: () => unknown): Promise<unknown> {
    // The keyspace may be gone (a peer deleted it while this node stopped): the default then.
    const timeoutMs =
      this.engine.stats().keySpaces[this.keySpace]?.config.readTimeoutMs ??
      toMs(DEFAULT_READ_TIMEOUT, 'readTimeout');
    const controller = new AbortController();
    return new Promise<unknown>((resolve, reject) => {
      // Kept alive, as the engine's own load timer is: the caller must get its answer.
      const timer = setTimeout(() => {
        const error = new DistCacheError(
          'E_DATASOURCE_TIMEOUT',
          `Data source of keyspace "${this.keySpace}" did not answer for key "${key}" within ${timeoutMs}ms ` +
            '(a call left waiting when the engine stopped, finished by the method)',
          { details: { keySpace: this.keySpace, key, timeoutMs } },
        );
        reject(error);
        controller.abort(error);
      }, timeoutMs);
      const settle = (): void => clearTimeout(timer);
      const context = { signal: controller.signal, keySpace: this.keySpace };
      Promise.resolve()
        .then(() => runWithFetchContext(context, run))
        .then(resolve, reject)
        .finally(settle);
    });
  }
}

function ownCopy(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}
