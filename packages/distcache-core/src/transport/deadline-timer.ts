import type { Clock, TimerHandle } from '../util/clock';

/**
 * One timer for many deadlines. Owners call {@link schedule} with each new deadline; the timer is
 * re-armed only when a deadline is earlier than the one it waits for, so requests with the same
 * timeout (the usual case) cost no timer operation at all. When it fires, `onDue` expires what is
 * due and returns the next deadline (or `Infinity`). Expiry is exact: the timer fires at the earliest
 * deadline, never in coarse steps.
 *
 * `onDue` runs once the input that was waiting when the timer fired has been read (a `setImmediate`
 * from the timer, as in `setDeadline` of util/clock.ts, but cancellable): timers run before the poll phase, so after
 * an event-loop stall (GC, a long synchronous handler, a paused process) a request whose answer
 * already sat in the socket failed with `E_TIMEOUT`, and the caller saw an error for a read that
 * had succeeded. The check costs one `setImmediate` per firing, never per request.
 */
export class DeadlineTimer {
  private handle: TimerHandle;
  /** The deadline the timer is armed for; `Infinity` when it is not armed. */
  private at = Number.POSITIVE_INFINITY;
  /** The check queued by a firing, until it runs. */
  private check: NodeJS.Immediate | undefined;
  private readonly due = (): void => {
    this.check = undefined;
    const next = this.onDue(this.clock.now());
    if (next !== Number.POSITIVE_INFINITY) this.schedule(next);
  };
  private readonly fire = (): void => {
    this.at = Number.POSITIVE_INFINITY;
    this.check ??= setImmediate(this.due);
  };

  /**
   * @param onDue expires every deadline at or before `now`; returns the earliest deadline left
   */
  constructor(
    private readonly clock: Clock,
    private readonly onDue: (now: number) => number,
  ) {}

  /** Makes sure the timer fires no later than `deadline` (clock milliseconds). */
  schedule(deadline: number): void {
    if (deadline >= this.at) return;
    if (this.at !== Number.POSITIVE_INFINITY) this.clock.clearTimeout(this.handle);
    this.at = deadline;
    this.handle = this.clock.setTimeout(this.fire, Math.max(0, deadline - this.clock.now()));
  }

  /** Stops the timer (and a check it queued). */
  cancel(): void {
    if (this.at !== Number.POSITIVE_INFINITY) this.clock.clearTimeout(this.handle);
    this.at = Number.POSITIVE_INFINITY;
    if (this.check !== undefined) clearImmediate(this.check);
    this.check = undefined;
  }
}
