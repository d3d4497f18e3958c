import type { Clock } from './clock';
import type { LogContext, Logger } from './logger';

/** How long a repeated warning stays quiet after it was logged. */
export const LOG_THROTTLE_MS = 60_000;
/** Keys remembered at once; a flood of distinct keys forgets the oldest. */
const MAX_KEYS = 1_024;

/**
 * Logs a warning at most once per {@link LOG_THROTTLE_MS} per key (a misconfigured peer retried
 * every ping would otherwise repeat the same line twice a second), saying how many were held back.
 */
export class LogThrottle {
  private readonly seen = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly intervalMs = LOG_THROTTLE_MS,
  ) {}

  warn(key: string, message: string, context: LogContext = {}): void {
    const now = this.clock.now();
    const last = this.seen.get(key);
    if (last !== undefined && now - last.at < this.intervalMs) {
      last.suppressed += 1;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.seen.delete(key);
    this.seen.set(key, { at: now, suppressed: 0 });
    if (this.seen.size > MAX_KEYS) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.logger.warn(message, suppressed === 0 ? context : { ...context, repeatedSinceLastLog: suppressed });
  }
}
