import { toMs } from 'distcache-core';
import type { CacheWriteMetadata } from '../decorators/decorator.types';
import { fromDecorator } from './bootstrap-errors';
import { type ArgsFunction, argsFunction, decoratorOptions } from './decorator-options';

/**
 * A `@CacheEvict`/`@CachePut` whose options were checked at bootstrap, durations in milliseconds.
 * `where` names the decorator and method (`@CachePut('products') on ProductsService.save`).
 */
export type ResolvedCacheWrite =
  | {
      readonly kind: 'evict';
      readonly keySpace: string;
      readonly where: string;
      readonly key: ArgsFunction | undefined;
      readonly tags: ArgsFunction | undefined;
    }
  | {
      readonly kind: 'put';
      readonly keySpace: string;
      readonly where: string;
      readonly key: ArgsFunction | undefined;
      readonly ttlMs: number | undefined;
    };

/** The fields each decorator takes (`CacheEvictOptions`, `CachePutOptions`). */
const KNOWN = {
  evict: { decorator: '@CacheEvict', fields: ['key', 'tags'] },
  put: { decorator: '@CachePut', fields: ['key', 'ttl'] },
} as const;

/** `@CacheEvict` or `@CachePut`, as messages name the decorator. */
export function writeDecorator(kind: CacheWriteMetadata['kind']): string {
  return KNOWN[kind].decorator;
}

/**
 * Checks the options of a `@CacheEvict`/`@CachePut` once, at bootstrap, the way the core checks
 * its own put options: an unknown field is refused rather than ignored, and `ttl` goes through
 * the core's `toMs`, so a mistake fails before any call has run the method body.
 * @throws DistCacheError `E_INVALID_OPTION` naming the decorator, the method and the field
 */
export function resolveCacheWrite(where: string, write: CacheWriteMetadata): ResolvedCacheWrite {
  const options = decoratorOptions(where, write.options, KNOWN[write.kind]);
  const { keySpace } = write;
  const key = argsFunction(where, options.key, 'key');
  if (write.kind === 'evict')
    return { kind: 'evict', keySpace, where, key, tags: argsFunction(where, options.tags, 'tags') };
  let ttlMs: number | undefined;
  try {
    ttlMs = options.ttl === undefined ? undefined : toMs(options.ttl, 'ttl');
  } catch (error) {
    throw fromDecorator(where, error);
  }
  return { kind: 'put', keySpace, where, key, ttlMs };
}
