import { DistCacheError, type DistCacheEngine, isDistCacheError, type Logger } from 'distcache-core';
import { type MethodShape, methodShape } from '../keys/method-key';
import { callKey, type KeyOrigin, type KeySite, keyRefused, notAKey } from './call-key';
import { shownValue } from './shown-value';
import type { ResolvedCacheWrite } from './cache-write.options';
import { cacheAvailable, replaceMethod } from './method-wiring';
import type { MethodSite } from './read-through.wiring';

/**
 * Runs the method, then its `@CacheEvict`/`@CachePut` writes in source order, and resolves with the
 * method's result once the cluster applied them. A method that throws writes nothing. A failed
 * write rejects the call: the caller learns that other nodes may still serve the old value.
 */
export function wrapCacheWrites(
  engine: DistCacheEngine,
  site: MethodSite,
  writes: readonly ResolvedCacheWrite[],
  logger: Logger,
): void {
  const shape = methodShape(site.prototype, site.name);
  const { original, label } = site;
  const planned = writes.map((write) => ({ write, keySite: keySiteOf(write, label) }));
  const wrapped = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const result: unknown = await original.apply(this, args);
    if (!cacheAvailable(engine)) {
      logger.warn(`${label}: cache writes skipped, the engine is ${engine.state}`);
      return result;
    }
    for (const { write, keySite } of planned) await applyWrite(engine, write, keySite, args, shape, result);
    return result;
  };
  replaceMethod(site.instance, site.name, original, wrapped);
}

function keySiteOf(write: ResolvedCacheWrite, label: string): KeySite {
  return {
    where: write.where,
    keySpace: write.keySpace,
    label,
    custom: 'a `key` function that returns the key the @ReadThrough method reads',
    expected: write.kind === 'evict' ? 'a non-empty string or an array of them' : 'a non-empty string',
  };
}

async function applyWrite(
  engine: DistCacheEngine,
  write: ResolvedCacheWrite,
  keySite: KeySite,
  args: unknown[],
  shape: MethodShape,
  result: unknown,
): Promise<void> {
  const fromKeyFunction = write.key !== undefined;
  switch (write.kind) {
    case 'evict': {
      const skipped = 'nothing was evicted, so the cache may still serve the old value';
      // The keys are made first, so a key function that returns no key fails before anything is
      // evicted, as the message says. With `tags` alone, only the tags are evicted.
      let keys: unknown;
      if (write.key !== undefined || write.tags === undefined) {
        keys = write.key === undefined ? callKey(keySite, args, shape) : write.key(...args);
        if (typeof keys !== 'string' && !Array.isArray(keys)) throw notAKey(keySite, keys, skipped);
      }
      if (write.tags !== undefined) {
        const tags = write.tags(...args);
        try {
          await engine.deleteByTags(write.keySpace, tags as readonly string[]);
        } catch (error) {
          if (!isDistCacheError(error, 'E_INVALID_VALUE')) throw error;
          throw tagsRefused(keySite, tags, error, skipped);
        }
        if (keys === undefined) return;
      }
      const list: readonly unknown[] = typeof keys === 'string' ? [keys] : (keys as readonly unknown[]);
      const after = write.tags === undefined ? skipped : 'its tags were evicted, not its keys';
      await refusedKeys(engine, keySite, { key: keys, fromKeyFunction, skipped: after }, () =>
        engine.deleteMany(write.keySpace, list as readonly string[]),
      );
      return;
    }
    case 'put': {
      const key = write.key === undefined ? callKey(keySite, args, shape) : write.key(...args);
      const skipped = 'its result was not stored, so the cache may still serve the old value';
      await refusedKeys(engine, keySite, { key, fromKeyFunction, skipped }, () =>
        // `undefined` means "not found" everywhere in distcache: drop the key rather than store it.
        result === undefined
          ? engine.delete(write.keySpace, key as string)
          : engine.put(write.keySpace, key as string, result, { ttl: write.ttlMs }),
      );
      return;
    }
  }
}

/** Runs a write, reporting a key the engine refuses with the decorator and method (see keyRefused). */
async function refusedKeys(
  engine: DistCacheEngine,
  keySite: KeySite,
  origin: Omit<KeyOrigin, 'maxKeyBytes'>,
  write: () => Promise<unknown>,
): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!isDistCacheError(error, 'E_INVALID_KEY')) throw error;
    throw keyRefused(keySite, error, { ...origin, maxKeyBytes: engine.options.maxKeyBytes });
  }
}

/** A `@CacheEvict` whose `tags` function returned what the engine refuses (not an array of tags). */
function tagsRefused(
  site: KeySite,
  returned: unknown,
  error: DistCacheError,
  skipped: string,
): DistCacheError {
  return new DistCacheError(
    error.code,
    `${site.where}: its \`tags\` function returned ${shownValue(returned)}, which keyspace ` +
      `"${site.keySpace}" refuses (${error.message}). The method ran; ${skipped}. Make the \`tags\` ` +
      'function return an array of tag strings',
    { cause: error, details: { keySpace: site.keySpace, method: site.label } },
  );
}
