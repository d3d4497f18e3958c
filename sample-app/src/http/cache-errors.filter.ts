// What a client of the catalogue gets when the cache cannot answer: the status a gateway would give
// (504 for a timeout, 503 for "not now"), a message that says what happened to a write, and one
// log line per failure. Nest's default made each of these a bare 500 with ~30 lines of stack in the
// log (an owner paused for 10 s: every read of its keys; found by an outside tester).
import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { DistCacheError, type DistCacheErrorCode } from 'distcache-core';

/** The cache or the database did not answer within its timeout. */
const TIMEOUTS: ReadonlySet<DistCacheErrorCode> = new Set(['E_TIMEOUT', 'E_DATASOURCE_TIMEOUT']);
/** The cluster refused for now: a peer unreachable, the source's breaker or rate limit, shutdown. */
const UNAVAILABLE: ReadonlySet<DistCacheErrorCode> = new Set([
  'E_PEER_UNAVAILABLE',
  'E_CIRCUIT_OPEN',
  'E_RATE_LIMITED',
  'E_TOO_MANY_REQUESTS',
  'E_ENGINE_STOPPED',
]);

interface HttpRequest {
  method: string;
  url: string;
}
interface HttpResponse {
  status(code: number): HttpResponse;
  json(body: unknown): unknown;
}

@Catch(DistCacheError)
export class CacheErrorsFilter implements ExceptionFilter<DistCacheError> {
  private readonly logger = new Logger('HTTP');

  catch(error: DistCacheError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const response = http.getResponse<HttpResponse>();
    const status = TIMEOUTS.has(error.code) ? 504 : UNAVAILABLE.has(error.code) ? 503 : 500;
    if (status === 500) {
      this.logger.error(`${request.method} ${request.url}: ${error.code} ${error.message}`, error.stack);
      response.status(500).json({ statusCode: 500, message: 'Internal server error' });
      return;
    }
    this.logger.warn(`${request.method} ${request.url} -> ${status}: ${error.code} ${error.message}`);
    // A write reaches the cache after the database (the @CacheEvict runs after the method), so a
    // cache error on a write means the row was written and its cache eviction not confirmed.
    const write = request.method !== 'GET' && request.method !== 'HEAD';
    const message = write
      ? 'The database write was applied, but the cache did not confirm it dropped the old value; ' +
        'other nodes may serve it until the cluster delivers the eviction. Retrying the write is safe.'
      : status === 504
        ? 'The cache or the database did not answer in time; retry.'
        : 'The cache cannot serve this now; retry.';
    response.status(status).json({ statusCode: status, code: error.code, message });
  }
}
