import { rateLimited } from '../errors/messages';
import { onAbort } from '../util/abort';
import type { Clock } from '../util/clock';
import type { ResolvedRateLimit } from './protection.options';

/**
 * A token bucket: `burst` tokens, refilled continuously at `perSecond`. Written here rather than
 * taken from a library because it must run on the engine's injectable `Clock` (the limiters on npm
 * read `Date.now()` and set their own timers, so tests could not drive them with a fake clock), and
 * the whole algorithm is the refill arithmetic below.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly limits: ResolvedRateLimit,
    private readonly clock: Clock,
    /** Label for errors: the keyspace, or "engine" for the shared bucket. */
    private readonly scope: string,
  ) {
    this.tokens = limits.burst;
    this.updatedAt = clock.now();
  }

  /** Tokens available now (fractional). */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  /**
   * Takes one token, waiting up to `maxWait` for it. The wait keeps the process alive (a caller is
   * waiting for the load behind it) and ends with `lifetime`'s reason when it aborts (the engine
   * stopping), so a stop is not held up by up to `maxWait`.
   * @throws DistCacheError `E_RATE_LIMITED` when no token comes in time; `lifetime.reason` when it aborts
   */
  async take(lifetime?: AbortSignal): Promise<void> {
    if (lifetime?.aborted === true) throw lifetime.reason;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return;
    }
    const waitMs = Math.ceil(((1 - this.tokens) / this.limits.perSecond) * 1_000);
    if (waitMs > this.limits.maxWaitMs) throw rateLimited(this.scope, this.limits.perSecond);
    // Reserve the token now so concurrent waiters queue behind each other instead of all waking
    // up for the same token.
    this.tokens -= 1;
    await new Promise<void>((resolve, reject) => {
      let stopListening: (() => void) | undefined;
      const timer = this.clock.setTimeout(
        () => {
          stopListening?.();
          resolve();
        },
        waitMs,
        true,
      );
      if (lifetime !== undefined)
        stopListening = onAbort(lifetime, () => {
          this.clock.clearTimeout(timer);
          reject(lifetime.reason);
        });
    });
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.updatedAt;
    if (elapsed <= 0) return;
    this.updatedAt = now;
    this.tokens = Math.min(this.limits.burst, this.tokens + (elapsed / 1_000) * this.limits.perSecond);
  }
}
