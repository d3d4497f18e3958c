import { Inject } from '@nestjs/common';
import { DISTCACHE_ENGINE } from '../distcache.constants';

/**
 * Injects the raw `DistCacheEngine` the module created (for what `DistCacheService` does not
 * wrap, such as listening to engine events directly).
 *
 * @example
 * ```ts
 * constructor(@InjectDistCacheEngine() private readonly engine: DistCacheEngine) {}
 * ```
 */
export const InjectDistCacheEngine = (): PropertyDecorator & ParameterDecorator => Inject(DISTCACHE_ENGINE);
