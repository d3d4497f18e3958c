// The NestJS module (DistCacheModule, @KeySpace, @ReadThrough, DistCacheService) arrives with the
// NestJS issue. Until then this package re-exports the engine surface it will wrap, so that the
// workspace wiring (build order, exports map, dual ESM/CJS output) is exercised end to end.
export { DistCacheEngine, defineKeySpace, DistCacheError, isDistCacheError } from 'distcache-core';
