import CircuitBreaker from 'opossum';
import { isDistCacheError } from '../errors/distcache-error';
import type { DistCacheErrorCode } from '../errors/error-codes';
import { circuitOpen } from '../errors/messages';
import type { ResolvedBreakerOptions } from './protection.options';

/** Breaker state, as stats and events report it. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Outcomes that say nothing about the data source's health: they never count as failures.
 * ("Not found" is a resolved `undefined`, so it is a success already.)
 */
const NOT_FAILURES: ReadonlySet<DistCacheErrorCode> = new Set([
  'E_ABORTED',
  'E_ENGINE_STOPPED',
  'E_RATE_LIMITED',
  'E_INVALID_VALUE',
  'E_VALUE_TOO_LARGE',
]);

/**
 * A circuit breaker around one keyspace's data source, on opossum. Data-source errors and timeouts
 * count as failures; once they pass the threshold the breaker opens and loads fail at once with
 * `E_CIRCUIT_OPEN` (the source is not called). After `resetTimeout` one probe goes through
 * (half-open); its success closes the breaker.
 */
export class SourceBreaker {
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private openedAt = 0;

  constructor(
    readonly options: ResolvedBreakerOptions,
    private readonly keySpace: string,
    onState: (state: BreakerState) => void,
  ) {
    this.breaker = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
      // Timeouts are the keyspace's read timeout, enforced (and counted) around the call itself.
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      resetTimeout: options.resetTimeoutMs,
      rollingCountTimeout: options.rollingWindowMs,
      rollingCountBuckets: 10,
      // true = "do not count this error as a failure".
      errorFilter: (error: unknown) => isDistCacheError(error) && NOT_FAILURES.has(error.code),
    });
    this.breaker.on('open', () => {
      this.openedAt = Date.now();
      onState('open');
    });
    this.breaker.on('halfOpen', () => onState('half-open'));
    this.breaker.on('close', () => onState('closed'));
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  /**
   * Runs `call` through the breaker.
   * @throws DistCacheError `E_CIRCUIT_OPEN` while open; otherwise what `call` throws
   */
  async run<R>(call: () => Promise<R>): Promise<R> {
    try {
      return (await this.breaker.fire(call)) as R;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EOPENBREAKER') {
        const retryIn = Math.max(0, this.options.resetTimeoutMs - (Date.now() - this.openedAt));
        throw circuitOpen(this.keySpace, retryIn);
      }
      throw error;
    }
  }

  /** Stops the breaker's timers. */
  shutdown(): void {
    this.breaker.shutdown();
  }
}
