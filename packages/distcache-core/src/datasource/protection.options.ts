import { invalidOption } from '../errors/messages';
import { type Duration, toMs, toPositiveMs } from '../util/duration';

/** Circuit breaking of a keyspace's data source (opossum under the hood). */
export interface CircuitBreakerOptions {
  /** Failure percentage over the rolling window that opens the breaker. @default 50 */
  errorThresholdPercentage?: number;
  /** Calls in the window before the percentage is trusted. @default 5 */
  volumeThreshold?: number;
  /** How long the breaker stays open before letting a probe through (half-open). @default '10s' */
  resetTimeout?: Duration;
  /** Length of the rolling statistics window. @default '10s' */
  rollingWindow?: Duration;
}

/** A token bucket for data-source calls. */
export interface RateLimitOptions {
  /** Calls per second refilled into the bucket. */
  perSecond: number;
  /** Bucket size: calls allowed in a burst. @default perSecond (one second's worth) */
  burst?: number;
  /** Longest a load waits for a token before failing with `E_RATE_LIMITED`; 0 fails at once. @default 0 */
  maxWait?: Duration;
}

export interface ResolvedBreakerOptions {
  readonly errorThresholdPercentage: number;
  readonly volumeThreshold: number;
  readonly resetTimeoutMs: number;
  readonly rollingWindowMs: number;
}

export interface ResolvedRateLimit {
  readonly perSecond: number;
  readonly burst: number;
  readonly maxWaitMs: number;
}

export const DEFAULT_BREAKER: Readonly<Required<CircuitBreakerOptions>> = Object.freeze({
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeout: '10s',
  rollingWindow: '10s',
});

/** `false`/`undefined` turn the breaker off; `true` uses the defaults. @throws `E_INVALID_OPTION` */
export function resolveBreakerOptions(
  value: CircuitBreakerOptions | boolean | undefined,
  path: string,
): ResolvedBreakerOptions | undefined {
  if (value === undefined || value === false) return undefined;
  const options = value === true ? {} : value;
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(path, 'must be true, false or breaker options', options);
  }
  const threshold = options.errorThresholdPercentage ?? DEFAULT_BREAKER.errorThresholdPercentage;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 100)) {
    throw invalidOption(
      `${path}.errorThresholdPercentage`,
      'must be a number above 0 and at most 100',
      threshold,
    );
  }
  const volume = options.volumeThreshold ?? DEFAULT_BREAKER.volumeThreshold;
  if (!Number.isInteger(volume) || volume < 0) {
    throw invalidOption(`${path}.volumeThreshold`, 'must be an integer of at least 0', volume);
  }
  return Object.freeze({
    errorThresholdPercentage: threshold,
    volumeThreshold: volume,
    resetTimeoutMs: toPositiveMs(
      options.resetTimeout ?? DEFAULT_BREAKER.resetTimeout,
      `${path}.resetTimeout`,
    ),
    rollingWindowMs: toPositiveMs(
      options.rollingWindow ?? DEFAULT_BREAKER.rollingWindow,
      `${path}.rollingWindow`,
    ),
  });
}

/** `false`/`undefined` mean no limit. @throws `E_INVALID_OPTION` */
export function resolveRateLimit(
  value: RateLimitOptions | false | undefined,
  path: string,
): ResolvedRateLimit | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value !== 'object' || value === null)
    throw invalidOption(path, 'must be rate-limit options or false', value);
  const { perSecond } = value;
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0) {
    throw invalidOption(`${path}.perSecond`, 'must be a positive number', perSecond);
  }
  const burst = value.burst ?? Math.max(1, Math.ceil(perSecond));
  if (!Number.isInteger(burst) || burst < 1) {
    throw invalidOption(`${path}.burst`, 'must be an integer of at least 1', burst);
  }
  return Object.freeze({ perSecond, burst, maxWaitMs: toMs(value.maxWait ?? 0, `${path}.maxWait`) });
}
