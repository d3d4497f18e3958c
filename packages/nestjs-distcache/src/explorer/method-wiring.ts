import type { DistCacheEngine } from 'distcache-core';

/** Any method, as found on a provider instance. */
export type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * True when calling the method yields a Promise: an `async` function, or one whose declared return
 * type (TypeScript's `design:returntype`) is `Promise`.
 */
export function returnsPromise(prototype: object, name: string, method: Method): boolean {
  if (method.constructor.name === 'AsyncFunction') return true;
  return Reflect.getMetadata('design:returntype', prototype, name) === Promise;
}

/**
 * Replaces `instance[name]` with `wrapped`, on the instance only (the prototype and other
 * instances are untouched). Metadata other decorators attached to the original function
 * (`@SetMetadata`, `@Cron`, guards...) is copied, so explorers that read it from the instance's
 * method still find it.
 */
export function replaceMethod(instance: object, name: string, original: Method, wrapped: Method): void {
  for (const key of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), wrapped);
  }
  Object.defineProperty(wrapped, 'name', { value: original.name || name, configurable: true });
  Object.defineProperty(instance, name, {
    value: wrapped,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

/** Whether calls may go through the cache; before start and after stop they go to the method. */
export function cacheAvailable(engine: DistCacheEngine): boolean {
  return engine.state === 'running';
}
