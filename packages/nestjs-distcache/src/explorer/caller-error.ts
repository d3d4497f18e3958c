import { HttpException } from '@nestjs/common';
import { isDistCacheError, isRemoteError } from 'distcache-core';

/**
 * What a `@ReadThrough` caller gets for a failed load: what the method threw. On the node that ran
 * the method that is the original error (the engine wraps it in `E_DATASOURCE_FAILED` for its own
 * bookkeeping: breaker, grace, counters). From another node, the owner's error comes rebuilt: an
 * `HttpException` as an `HttpException` with the same status and response body (and name), any
 * other error as a `RemoteError` with its name, message and code. Errors of the cache itself
 * (timeouts, open breaker, rate limit, unreachable owner) are returned unchanged.
 */
export function callerError(error: unknown): unknown {
  if (!isDistCacheError(error, 'E_DATASOURCE_FAILED') || error.cause === undefined) return error;
  const cause = error.cause;
  if (!isRemoteError(cause) || cause.status === undefined) return cause;
  const exception = new HttpException(cause.response ?? cause.message, cause.status, { cause });
  exception.name = cause.name;
  return exception;
}
