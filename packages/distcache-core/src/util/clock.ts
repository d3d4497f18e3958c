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

/**
 * Reads `clock` at most once per `resolutionMs` and hands out that reading in between. The hit path
 * checks expiry on every read; on this machine `Date.now()` costs 55-80 ns, a third of an
 * lru-cache get behind `await` (see bench/README.md, "Local hit"). An entry may therefore be served
 * up to `resolutionMs` past its expiry, the same trade lru-cache makes with `ttlResolution`.
 */
export class CoarseClock {
  private reading: number | undefined;
  private readonly forget = (): void => {
    this.reading = undefined;
  };

  constructor(
    private readonly clock: Clock,
    private readonly resolutionMs = 1,
  ) {}

  now(): number {
    if (this.reading === undefined) {
      this.reading = this.clock.now();
      this.clock.setTimeout(this.forget, this.resolutionMs);
    }
    return this.reading;
  }
}
