import { invalidOption } from '../errors/messages';

/** A duration unit suffix accepted in strings. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

/**
 * A duration: a number of milliseconds, or a string such as `'250ms'`, `'30s'`, `'5m'`, `'1h'`,
 * `'1d'`. Fractions are allowed (`'1.5s'`); negative values are not.
 */
export type Duration = number | `${number}${DurationUnit}`;

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Converts a {@link Duration} to whole milliseconds (rounded up, so `'0.1ms'` is 1, not 0).
 *
 * @param path field path used in the error message
 * @throws DistCacheError `E_INVALID_OPTION` when the value is not a finite, non-negative duration
 */
export function toMs(value: unknown, path: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw invalidOption(path, 'must be a finite, non-negative number of milliseconds', value);
    }
    return Math.ceil(value);
  }
  if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim());
    if (match !== null) {
      const unit = match[2] as DurationUnit;
      const ms = Math.ceil(Number(match[1]) * UNIT_MS[unit]);
      // 400 digits parse to Infinity: a timeout that never ends, a broadcast with no bound.
      if (!Number.isFinite(ms)) throw invalidOption(path, 'must be a finite duration', value);
      return ms;
    }
  }
  // A number in a string ("5", from an environment variable say) read as contradicting the rule.
  if (typeof value === 'string' && /^\d+(?:\.\d+)?$/.test(value.trim()))
    throw invalidOption(
      path,
      `is a string without a unit: write "${value.trim()}ms" or "${value.trim()}s", or the number ${value.trim()} (milliseconds)`,
      value,
    );
  throw invalidOption(
    path,
    'must be a number of milliseconds, or a string with a unit like "250ms", "30s", "5m", "1h", "1d"',
    value,
  );
}

/** Like {@link toMs}, but `undefined` stays `undefined`. */
export function toOptionalMs(value: unknown, path: string): number | undefined {
  return value === undefined ? undefined : toMs(value, path);
}

/** Like {@link toMs}, and also rejects zero. */
export function toPositiveMs(value: unknown, path: string): number {
  const ms = toMs(value, path);
  if (ms === 0) throw invalidOption(path, 'must be greater than zero', value);
  return ms;
}

/** One duration option: its value (or default) and its path in the options, for errors. */
export interface DurationField {
  readonly value: unknown;
  readonly path: string;
}

/**
 * Resolves two positive durations where the second must be at least `factor` times the first: a
 * backoff and its cap, a ping interval and the failure timeout built on it.
 *
 * @throws DistCacheError `E_INVALID_OPTION` naming the offending path
 */
export function toOrderedMs(
  lower: DurationField,
  upper: DurationField,
  factor = 1,
): [lowerMs: number, upperMs: number] {
  const lowerMs = toPositiveMs(lower.value, lower.path);
  const upperMs = toPositiveMs(upper.value, upper.path);
  if (upperMs < factor * lowerMs) {
    const times = factor === 1 ? '' : factor === 2 ? 'twice ' : `${factor} times `;
    throw invalidOption(upper.path, `must be at least ${times}${lower.path} (${lowerMs}ms)`, upper.value);
  }
  return [lowerMs, upperMs];
}
