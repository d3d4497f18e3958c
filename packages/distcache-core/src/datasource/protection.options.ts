import { type Duration, toMs, toPositiveMs } from '../util/duration';
import { integer, numberIn, type OptionFields, optionsObject, positiveNumber } from '../util/options';

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

const BREAKER_FIELDS: OptionFields = {
  what: 'circuit breaker option',
  fields: ['errorThresholdPercentage', 'volumeThreshold', 'resetTimeout', 'rollingWindow'],
};
const RATE_LIMIT_FIELDS: OptionFields = {
  what: 'rate limit option',
  fields: ['perSecond', 'burst', 'maxWait'],
};

/** `false`/`undefined` turn the breaker off; `true` uses the defaults. @throws `E_INVALID_OPTION` */
export function resolveBreakerOptions(
  value: CircuitBreakerOptions | boolean | undefined,
  path: string,
): ResolvedBreakerOptions | undefined {
  if (value === undefined || value === false) return undefined;
  const options: CircuitBreakerOptions = optionsObject(
    value === true ? {} : value,
    path,
    BREAKER_FIELDS,
    'must be true, false or breaker options',
  );
  const at = (field: keyof CircuitBreakerOptions): string => `${path}.${field}`;
  const d = DEFAULT_BREAKER;
  return Object.freeze({
    errorThresholdPercentage: numberIn(
      options.errorThresholdPercentage ?? d.errorThresholdPercentage,
      at('errorThresholdPercentage'),
      { above: 0, to: 100 },
    ),
    volumeThreshold: integer(options.volumeThreshold ?? d.volumeThreshold, at('volumeThreshold'), 0),
    resetTimeoutMs: toPositiveMs(options.resetTimeout ?? d.resetTimeout, at('resetTimeout')),
    rollingWindowMs: toPositiveMs(options.rollingWindow ?? d.rollingWindow, at('rollingWindow')),
  });
}

/** `false`/`undefined` mean no limit. @throws `E_INVALID_OPTION` */
export function resolveRateLimit(
  value: RateLimitOptions | false | undefined,
  path: string,
): ResolvedRateLimit | undefined {
  if (value === undefined || value === false) return undefined;
  const options: Partial<RateLimitOptions> = optionsObject(
    value,
    path,
    RATE_LIMIT_FIELDS,
    'must be rate-limit options or false',
  );
  const perSecond = positiveNumber(options.perSecond, `${path}.perSecond`);
  return Object.freeze({
    perSecond,
    burst: integer(options.burst ?? Math.max(1, Math.ceil(perSecond)), `${path}.burst`, 1),
    maxWaitMs: toMs(options.maxWait ?? 0, `${path}.maxWait`),
  });
}
