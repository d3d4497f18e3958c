import { READ_THROUGH_METADATA } from '../distcache.constants';
import type { AsyncMethodDecorator, ReadThroughMetadata, ReadThroughOptions } from './decorator.types';
import { recordIfMisplaced } from './misplaced';

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
 * singleton providers (not controllers). It must be an instance method, declared `async` or with a
 * declared `Promise` return type (which TypeScript records when `emitDecoratorMetadata` is on, as in
 * every Nest project): bootstrap checks one or the other, so a method that returns a Promise without
 * either is refused.
 *
 * @throws DistCacheError `E_INVALID_OPTION` at bootstrap: method not async, put on a getter, property
 *   or static method, keyspace already has a data source, `key` without `args`, invalid keyspace
 *   settings (the message names class and method)
 * @throws DistCacheError `E_INVALID_KEY` from a call whose arguments cannot be encoded (a class
 *   instance such as a DTO, a `Date`, `NaN`) or whose key is refused (over `maxKeyBytes`): pass plain
 *   values, or give `key` and `args`
 * @example
 * ```ts
 * @Injectable()
 * export class ProductsService {
 *   constructor(private readonly db: Database) {}
 *
 *   @ReadThrough('products', { ttl: '5m' })
 *   async findOne(id: string): Promise<Product | undefined> {
 *     // The database's null becomes undefined, distcache's "not found" (`??` needs the awaited value).
 *     return (await this.db.products.findUnique({ where: { id } })) ?? undefined;
 *   }
 * }
 * ```
 */
export function ReadThrough<A extends readonly unknown[] = never[]>(
  keySpace: string,
  options: ReadThroughOptions<A> = {},
): AsyncMethodDecorator<A> {
  return (target, propertyKey, descriptor) => {
    const metadata: ReadThroughMetadata = { keySpace, options: options as ReadThroughOptions<never> };
    Reflect.defineMetadata(READ_THROUGH_METADATA, metadata, target, propertyKey);
    recordIfMisplaced(target, propertyKey, descriptor, `@ReadThrough('${keySpace}')`);
  };
}
