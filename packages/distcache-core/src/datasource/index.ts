export type { DataSource, FetchContext, FetchFunction } from './datasource';
export { toDataSource } from './datasource';
export { SingleFlight } from './single-flight';
export { TokenBucket } from './token-bucket';
export { SourceBreaker, type BreakerState } from './circuit-breaker';
export { SourceGuard } from './source-guard';
export {
  type CircuitBreakerOptions,
  type RateLimitOptions,
  resolveBreakerOptions,
  resolveRateLimit,
  DEFAULT_BREAKER,
} from './protection.options';
