export { ERROR_CODES, type DistCacheErrorCode } from './error-codes';
export { DistCacheError, isDistCacheError } from './distcache-error';
export * as errors from './messages';
