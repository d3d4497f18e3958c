import { READ_THROUGH_METADATA } from '../distcache.constants';
import type { AsyncMethodDecorator, ReadThroughMetadata, ReadThroughOptions } from './decorator.types';

/**
 * Makes the method the data source of keyspace `keySpace` and sends every call through the cache:
 * a hit returns at once; a miss is loaded by the key's owner node, which calls this same method
 * there, once for the whole cluster, however many nodes asked at the same time.
 *
 * The key is derived from the arguments (see `encodeArguments`): a single string, or a single
 * number of a `number` parameter, is the key itself; other argument lists become canonical JSON,
 * which the owner decodes to repeat the call. `key` and `args` replace both directions.
 * Options other than `key`/`args` are the keyspace settings (`ttl`, `maxBytes`, `negativeTtl`,
 * `circuitBreaker`...). Values come back deeply frozen unless `valueMode: 'copy'`.
 *
 * The decorator only records metadata; the module wires the method when it initialises, on
 * singleton providers (not controllers). The method must be `async` (or return a Promise).
 *
 * @throws DistCacheError `E_INVALID_OPTION` at bootstrap: method not async, keyspace already has a
 *   data source, `key` without `args`, invalid keyspace settings (the message names class and method)
 * @example
 * ```ts
 * @Injectable()
 * export class ProductsService {
 *   constructor(private readonly db: Database) {}
 *
 *   @ReadThrough('products', { ttl: '5m' })
 *   async findOne(id: string): Promise<Product | undefined> {
 *     return this.db.products.findUnique({ where: { id } }) ?? undefined;
 *   }
 * }
 * ```
 */
export function ReadThrough<A extends readonly unknown[] = never[]>(
  keySpace: string,
  options: ReadThroughOptions<A> = {},
): AsyncMethodDecorator<A> {
  return (target, propertyKey) => {
    const metadata: ReadThroughMetadata = { keySpace, options: options as ReadThroughOptions<never> };
    Reflect.defineMetadata(READ_THROUGH_METADATA, metadata, target, propertyKey);
  };
}
