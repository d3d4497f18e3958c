import type { DistCacheEngine, Logger } from 'distcache-core';
import { type MethodShape, methodShape } from '../keys/method-key';
import { callKey, type KeySite } from './call-key';
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
  switch (write.kind) {
    case 'evict': {
      const derive = write.key as ((...args: unknown[]) => string | readonly string[]) | undefined;
      const deriveTags = write.tags as ((...args: unknown[]) => readonly string[]) | undefined;
      if (deriveTags !== undefined) await engine.deleteByTags(write.keySpace, deriveTags(...args));
      // With `tags` alone, only the tags are evicted.
      if (deriveTags !== undefined && derive === undefined) return;
      const keys = derive === undefined ? callKey(keySite, args, shape) : derive(...args);
      await engine.deleteMany(write.keySpace, typeof keys === 'string' ? [keys] : keys);
      return;
    }
    case 'put': {
      const derive = write.key as ((...args: unknown[]) => string) | undefined;
      const key = derive === undefined ? callKey(keySite, args, shape) : derive(...args);
      // `undefined` means "not found" everywhere in distcache: drop the key rather than store it.
      if (result === undefined) await engine.delete(write.keySpace, key);
      else await engine.put(write.keySpace, key, result, { ttl: write.ttlMs });
      return;
    }
  }
}
