export { ERROR_CODES, type DistCacheErrorCode } from './error-codes';
export { DistCacheError, isDistCacheError } from './distcache-error';
export { type ErrorDetail, RemoteError, isRemoteError, describeError } from './remote-error';
export * as errors from './messages';
