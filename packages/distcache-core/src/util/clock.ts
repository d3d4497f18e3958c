/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Time as the engine sees it. Inject a fake (see `distcache-core/testing`) to test TTLs, timeouts
 * and breakers without sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. Expiry times on the wire are absolute in this unit. */
  now(): number;
  /** Runs `callback` after `ms`; the timer must not keep the process alive. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. It looks the globals up on every call, so test frameworks that replace
 * `setTimeout`/`Date` (fake timers) work with it as well.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
