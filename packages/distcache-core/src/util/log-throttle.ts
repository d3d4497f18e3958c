import type { Clock } from './clock';
import type { LogContext, Logger } from './logger';

/** Interval between two warnings of one kind; the ones in between are counted, not logged. */
export const LOG_THROTTLE_INTERVAL_MS = 10_000;

/** Kinds remembered at once; a flood of distinct kinds forgets the oldest. */
const MAX_KINDS = 1_024;

/**
 * Warnings at most one per kind every {@link LOG_THROTTLE_INTERVAL_MS} (or the interval given):
 * ten thousand refused connections must not become ten thousand log lines (the logging would cost
 * more than the refusal), nor a misconfigured peer retried every ping two lines a second. The next
 * line says how many were held back.
 */
export class LogThrottle {
  private readonly kinds = new Map<string, { last: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = LOG_THROTTLE_INTERVAL_MS,
  ) {}

  /** Logs `message` at `level` unless a line of the same `kind` was logged within the interval. */
  log(level: 'warn' | 'error', kind: string, message: string, context?: LogContext): void {
    const now = this.clock.now();
    const seen = this.kinds.get(kind);
    if (seen !== undefined && now - seen.last < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.kinds.delete(kind);
    this.kinds.set(kind, { last: now, suppressed: 0 });
    if (this.kinds.size > MAX_KINDS) {
      const oldest = this.kinds.keys().next().value;
      if (oldest !== undefined) this.kinds.delete(oldest);
    }
    const more =
      suppressed > 0 ? ` (and ${suppressed} more like it in the last ${now - (seen?.last ?? now)}ms)` : '';
    this.logger[level](`${message}${more}`, context);
  }

  /** {@link log} at `warn`. */
  warn(kind: string, message: string, context?: LogContext): void {
    this.log('warn', kind, message, context);
  }
}
