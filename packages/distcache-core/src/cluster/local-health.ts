import type { Clock, TimerHandle } from '../util/clock';

/** How often the event loop's punctuality is sampled. */
export const SAMPLE_INTERVAL_MS = 100;
/** Lateness under this is scheduling noise, not a stall. */
const NOISE_MS = 15;
/** What {@link LocalHealth.sinceLastTick} reads on a loop that did not stall: up to this. */
export const TICK_SLACK_MS = SAMPLE_INTERVAL_MS + NOISE_MS;

/** One stall of this node's event loop: it ended at `at` and lasted `lag` ms. */
interface Stall {
  readonly at: number;
  readonly lag: number;
}

/**
 * How punctual this node's own event loop has been (Lifeguard's "local health"). A node whose loop
 * was blocked (a GC pause, a long synchronous task, a starved CPU) sees its pings time out while
 * the answers wait unread in its sockets; it must not take that as silence of its peers. The
 * failure detector subtracts the stalls it measured here from a peer's silence and widens its ping
 * timeout by the recent lag, so a lagging node doubts itself before it accuses others.
 *
 * Measured with a repeating timer: a tick that fires late by more than {@link NOISE_MS} records a
 * stall. A stall still in progress (the tick is overdue right now) counts too, because the timers
 * that report a failed ping can fire before the tick that would have recorded it.
 */
export class LocalHealth {
  private stalls: Stall[] = [];
  private expected = 0;
  private timer: TimerHandle;
  private started = false;

  /**
   * @param windowMs how long stalls are remembered (at least the failure timeout)
   * @param onStall told of each stall as the late tick records it, with its length
   */
  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly onStall?: (lagMs: number) => void,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(this.clock.now());
  }

  stop(): void {
    this.started = false;
    this.clock.clearTimeout(this.timer);
  }

  /** Milliseconds this node's loop was stalled since `since` (clock time), the current stall included. */
  stalledSince(since: number): number {
    const now = this.clock.now();
    // The stall in progress began when the tick was due; only its part after `since` counts.
    let total = this.overdue(now) > 0 ? Math.max(0, now - Math.max(this.expected, since)) : 0;
    for (const stall of this.stalls) {
      if (stall.at <= since) continue;
      total += Math.min(stall.lag, stall.at - since);
    }
    return total;
  }

  /** The longest stall within the window, the current one included. */
  recentLag(): number {
    const now = this.clock.now();
    let longest = this.overdue(now);
    for (const stall of this.stalls)
      if (stall.at > now - this.windowMs) longest = Math.max(longest, stall.lag);
    return longest;
  }

  /** When the next tick is due (clock time): it changes each time a tick runs. */
  get tickDue(): number {
    return this.expected;
  }

  /**
   * Milliseconds since the last tick ran, at most a sample interval more than the stall in progress
   * (0 when not started). A loop that stalled inside a callback reads the sockets that had input
   * before its timers run: a read served then is the first to know, from this, that it was away.
   */
  sinceLastTick(now: number): number {
    return this.started ? now - (this.expected - SAMPLE_INTERVAL_MS) : 0;
  }

  private overdue(now: number): number {
    if (!this.started) return 0;
    const late = now - this.expected;
    return late > NOISE_MS ? late : 0;
  }

  private schedule(now: number): void {
    this.expected = now + SAMPLE_INTERVAL_MS;
    this.timer = this.clock.setTimeout(() => this.tick(), SAMPLE_INTERVAL_MS);
  }

  private tick(): void {
    if (!this.started) return;
    const now = this.clock.now();
    const lag = now - this.expected;
    if (lag > NOISE_MS) this.stalls.push({ at: now, lag });
    const oldest = now - this.windowMs;
    if (this.stalls.length > 0 && (this.stalls[0] as Stall).at < oldest)
      this.stalls = this.stalls.filter((stall) => stall.at >= oldest);
    this.schedule(now);
    if (lag > NOISE_MS) this.onStall?.(lag);
  }
}
