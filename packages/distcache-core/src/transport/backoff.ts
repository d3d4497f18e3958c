/** Inputs of {@link reconnectDelayMs}. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Fraction (0..1) of the delay that is randomised away. */
  jitter: number;
}

/**
 * Delay before the next connection attempt after `failures` consecutive failed ones (1 or more):
 * `min(maxMs, baseMs * 2^(failures - 1))`, minus up to `jitter` of it at random. Never below 1 ms.
 *
 * @param random uniform in [0, 1); injectable for tests
 */
export function reconnectDelayMs(
  failures: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const delay = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.max(1, Math.round(delay * (1 - policy.jitter * random())));
}
