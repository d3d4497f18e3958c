// Public surface of nestjs-distcache. The Terminus health indicator is exported from
// `nestjs-distcache/terminus`, so that `@nestjs/terminus` stays optional.
export { DistCacheModule } from './distcache.module';
export type {
  DistCacheModuleAsyncOptions,
  DistCacheModuleExtras,
  DistCacheModuleForRootOptions,
  DistCacheModuleOptions,
  DistCacheOptionsFactory,
} from './distcache.options';
export { DISTCACHE_ENGINE, DISTCACHE_MODULE_OPTIONS } from './distcache.constants';
export { DistCacheService } from './distcache.service';
export type { BreakerEvent, DistCacheEvent, StaleEvent } from './distcache.events';
export { KeySpace, type KeySpaceOptions, type KeySpaceProvider } from './decorators/key-space.decorator';
export { ReadThrough } from './decorators/read-through.decorator';
export { CacheEvict, CachePut } from './decorators/cache-write.decorators';
export { InjectDistCacheEngine } from './decorators/inject-engine.decorator';
export { currentFetchContext } from './fetch-context';
export type {
  AsyncMethodDecorator,
  CacheEvictOptions,
  CachePutOptions,
  DecoratedKeySpaceSettings,
  KeyFunction,
  MethodArgs,
  ReadThroughOptions,
} from './decorators/decorator.types';
export { decodeArguments, encodeArguments, methodShape, type MethodShape } from './keys/method-key';
export { canonicalJson } from './keys/canonical-json';
export { NestLoggerAdapter, type NestLoggerAdapterOptions } from './logging/nest-logger.adapter';
// The distcache-core types that this package's public methods take and return, so that code
// importing only nestjs-distcache can name them (declaration emit, TS2883).
export type {
  Codec,
  DistCacheEngine,
  DistCacheEngineOptions,
  Duration,
  EngineEvents,
  EngineState,
  EngineStats,
  FetchContext,
  GetOptions,
  KeySpaceConfigSnapshot,
  KeySpaceDefinition,
  KeySpaceEvent,
  KeySpaceSettings,
  KeySpaceStats,
  LogContext,
  Logger,
  PeerEvent,
  PeerInfo,
  PeerStatus,
  PutEntry,
  PutOptions,
  WriteOptions,
} from 'distcache-core';
