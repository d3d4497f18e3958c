import { CACHE_WRITE_METADATA } from '../distcache.constants';
import type {
  AsyncMethodDecorator,
  CacheEvictOptions,
  CachePutOptions,
  CacheWriteMetadata,
} from './decorator.types';
import { recordIfMisplaced } from './misplaced';

function recordWrite<A extends readonly unknown[]>(entry: CacheWriteMetadata): AsyncMethodDecorator<A> {
  return (target, propertyKey, descriptor) => {
    // Own metadata only: a subclass adding a decorator must not append to its parent's list.
    const previous = (Reflect.getOwnMetadata(CACHE_WRITE_METADATA, target, propertyKey) ?? []) as
      CacheWriteMetadata[] | [];
    // Decorators run bottom-up; prepend so the list reads in source order.
    Reflect.defineMetadata(CACHE_WRITE_METADATA, [entry, ...previous], target, propertyKey);
    const decorator = entry.kind === 'evict' ? 'CacheEvict' : 'CachePut';
    recordIfMisplaced(target, propertyKey, descriptor, `@${decorator}('${entry.keySpace}')`);
  };
}

/**
 * After the method resolves, removes the derived key from keyspace `keySpace` on every node of
 * the cluster (the call resolves once the owner deleted it and hot copies were dropped). When the
 * method throws, nothing is evicted. Stack several to evict from several keyspaces.
 *
 * @throws DistCacheError `E_INVALID_OPTION` at bootstrap when no keyspace `keySpace` exists, the
 *   method is not an async instance method, or an option is unknown or invalid (the message names
 *   class, method and option)
 * @throws DistCacheError `E_INVALID_KEY` after the method ran, when no `key` is given and its
 *   arguments cannot be encoded (a class instance, a `Date`, `NaN`), or the key is refused (over
 *   `maxKeyBytes`, or `key` returned no string); the message names class, method and the way out
 * @example
 * ```ts
 * // Without `key`, rename's two arguments would make another key than findOne(id) caches under
 * // (bootstrap fails and says so). `key` takes the method's leading parameters, typed.
 * @CacheEvict('products', { key: (id: string) => id })
 * async rename(id: string, name: string): Promise<void> {
 *   await this.db.products.update({ where: { id }, data: { name } });
 * }
 * ```
 */
export function CacheEvict<A extends readonly unknown[] = never[]>(
  keySpace: string,
  options: CacheEvictOptions<A> = {},
): AsyncMethodDecorator<A> {
  return recordWrite({ kind: 'evict', keySpace, options: options });
}

/**
 * After the method resolves, stores its result under the derived key in keyspace `keySpace` (on
 * the key's owner; other nodes drop their hot copies), so the next read anywhere gets it without
 * calling the data source. A result of `undefined` ("not found") evicts the key instead.
 *
 * @throws DistCacheError `E_INVALID_OPTION` at bootstrap when no keyspace `keySpace` exists, the
 *   method is not an async instance method, or an option is unknown or invalid (the message names
 *   class, method and option)
 * @throws DistCacheError `E_INVALID_KEY` after the method ran, when no `key` is given and its
 *   arguments cannot be encoded (a class instance, a `Date`, `NaN`), or the key is refused (over
 *   `maxKeyBytes`, or `key` returned no string); the message names class, method and the way out
 * @example
 * ```ts
 * @CachePut('products', { key: (product: Product) => product.id })
 * async save(product: Product): Promise<Product> {
 *   return this.db.products.upsert(product);
 * }
 * ```
 */
export function CachePut<A extends readonly unknown[] = never[]>(
  keySpace: string,
  options: CachePutOptions<A> = {},
): AsyncMethodDecorator<A> {
  return recordWrite({ kind: 'put', keySpace, options: options });
}
