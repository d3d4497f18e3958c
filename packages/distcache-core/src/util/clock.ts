/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Time as the engine sees it. Inject a fake (see `distcache-core/testing`) to test TTLs, timeouts
 * and breakers without sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. Expiry times on the wire are absolute in this unit. */
  now(): number;
  /**
   * Runs `callback` after `ms`. The timer must not keep the process alive, unless `keepAlive`: a
   * caller is waiting for it (a read's timeout, a wait for a rate-limit token), and a script whose
   * only pending work is that wait must see it end, not exit with the caller's promise unsettled.
   */
  setTimeout(callback: () => void, ms: number, keepAlive?: boolean): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * `clock.setTimeout` for a deadline: `expired` runs once the input that was waiting when the timer
 * fired has been read. Timers run before the poll phase of a loop turn, so after a stall (GC, a
 * long synchronous handler, a burst on other connections, a paused process) a deadline decided in
 * the timer failed work whose answer already sat in its socket. The `setImmediate` is not
 * cancelled with the timer: `expired` checks whether what it ends is still pending.
 */
export function setDeadline(
  clock: Clock,
  timeoutMs: number,
  expired: () => void,
  /** A caller is waiting for it (see {@link Clock.setTimeout}). */
  keepAlive = false,
): TimerHandle {
  return clock.setTimeout(() => setImmediate(expired), timeoutMs, keepAlive);
}

/** Longest delay Node's `setTimeout` honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The real clock. It looks the globals up on every call, so test frameworks that replace
 * `setTimeout`/`Date` (fake timers) work with it as well.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms, keepAlive = false) => {
    // Node runs a timer of more than 2^31 - 1 ms after 1 ms (TimeoutOverflowWarning): a caller's
    // `timeout: 2 ** 40` ended at once in E_TIMEOUT. Some 24.8 days is as good as never here.
    const timer = setTimeout(callback, Math.min(ms, MAX_TIMER_MS));
    if (!keepAlive) timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Reads `clock` once per callback of the event loop (an I/O event, a timer, an immediate) and once
 * per run of the promise jobs that follow it, and hands out that reading until then. The hit path
 * checks expiry on every read; on this machine `Date.now()` costs 40-80 ns, a third of an
 * lru-cache get behind `await` (bench/README.md, "Local hit"). The reading is dropped by
 * `process.nextTick`, which runs when the callback returns, or once the promise jobs queued then
 * are done. Not by a timer: re-arming a 1 ms timer after every reading cost a server ~5-10 µs per
 * request at 10-20k requests/s (bench/README.md, "Remote hit"). Not by a `setImmediate`: a reading
 * taken in one loop turn's immediates then served the next turn's I/O callbacks, past a stall
 * between them, and the node missed that its loop had been away (docs/reliability.md, defect 14).
 * An entry may be served past its expiry for as long as one callback lasts (work that never yields
 * keeps the same reading), as with lru-cache's `ttlResolution`.
 */
export class CoarseClock {
  private reading: number | undefined;
  private readonly forget = (): void => {
    this.reading = undefined;
  };

  constructor(private readonly clock: Clock) {}

  now(): number {
    if (this.reading === undefined) {
      this.reading = this.clock.now();
      process.nextTick(this.forget);
    }
    return this.reading;
  }
}
