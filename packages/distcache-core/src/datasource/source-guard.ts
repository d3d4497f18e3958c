import type { Clock } from '../util/clock';
import { type BreakerState, SourceBreaker } from './circuit-breaker';
import type { ResolvedBreakerOptions, ResolvedRateLimit } from './protection.options';
import { TokenBucket } from './token-bucket';

/** The protection settings a guard is built from. */
export interface GuardConfig {
  readonly circuitBreaker: ResolvedBreakerOptions | undefined;
  readonly rateLimit: ResolvedRateLimit | undefined;
}

/**
 * Everything between a keyspace and its data source: its own token bucket, the engine-wide bucket
 * shared by every keyspace, and its circuit breaker. Rate limits are checked before the breaker, so
 * a rejected call is never counted as a source failure; an open breaker fails before any token is
 * spent.
 */
export class SourceGuard {
  private breaker: SourceBreaker | undefined;
  private limiter: TokenBucket | undefined;

  constructor(
    private config: GuardConfig,
    private readonly shared: TokenBucket | undefined,
    private readonly clock: Clock,
    private readonly keySpace: string,
    private readonly onBreakerState: (state: BreakerState) => void,
  ) {
    this.breaker = this.makeBreaker(config.circuitBreaker);
    this.limiter = this.makeLimiter(config.rateLimit);
  }

  /** `undefined` when the keyspace has no breaker. */
  get breakerState(): BreakerState | undefined {
    return this.breaker?.state;
  }

  /**
   * Admits and runs one data-source call; a wait for a token ends when `lifetime` aborts.
   * @throws DistCacheError `E_CIRCUIT_OPEN`, `E_RATE_LIMITED`, `lifetime.reason`, or what `call` throws
   */
  async run<R>(call: () => Promise<R>, lifetime?: AbortSignal): Promise<R> {
    const breaker = this.breaker;
    if (breaker?.state === 'open') return breaker.run(call);
    // Await only what exists: without limits the call starts in this very tick (its timeout timer
    // too), exactly as an unguarded call would.
    if (this.limiter !== undefined) await this.limiter.take(lifetime);
    if (this.shared !== undefined) await this.shared.take(lifetime);
    return breaker === undefined ? call() : breaker.run(call);
  }

  /** Applies new settings; a breaker or bucket whose settings did not change keeps its state. */
  reconfigure(config: GuardConfig): void {
    if (!sameSettings(config.circuitBreaker, this.config.circuitBreaker)) {
      this.breaker?.shutdown();
      this.breaker = this.makeBreaker(config.circuitBreaker);
    }
    if (!sameSettings(config.rateLimit, this.config.rateLimit))
      this.limiter = this.makeLimiter(config.rateLimit);
    this.config = config;
  }

  shutdown(): void {
    this.breaker?.shutdown();
  }

  private makeBreaker(options: ResolvedBreakerOptions | undefined): SourceBreaker | undefined {
    return options === undefined ? undefined : new SourceBreaker(options, this.keySpace, this.onBreakerState);
  }

  private makeLimiter(options: ResolvedRateLimit | undefined): TokenBucket | undefined {
    return options === undefined
      ? undefined
      : new TokenBucket(options, this.clock, `keyspace "${this.keySpace}"`);
  }
}

function sameSettings(a: object | undefined, b: object | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
