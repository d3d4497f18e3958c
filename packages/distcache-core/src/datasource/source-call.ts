import type { FetchContext } from './datasource';
import { onAbort } from '../util/abort';
import { type Clock, setDeadline, type TimerHandle } from '../util/clock';

/**
 * One data-source call's bounds: the call ends when `timeoutMs` passes or `lifetime` (the engine's
 * signal) aborts, whichever comes first, and {@link SourceCall.run} then rejects with the reason
 * at once, even if the source never settles.
 *
 * The AbortSignal the source is handed ({@link SourceCall.context}) is made only when the source
 * reads it. Most sources never do, and an AbortController, its signal and the listeners that wired
 * it to the timer and the engine's signal made up most of the ~20 µs of CPU per miss this saved
 * (the engine's own cost of a miss: 72 -> 51 µs, bench/README.md, "Miss path"). A signal read
 * after the call ended comes back already aborted, with the reason.
 */
export class SourceCall {
  /** What the data source gets: own, enumerable properties, so a spread or `JSON.stringify` keeps them. */
  readonly context: FetchContext;
  #controller: AbortController | undefined;
  #timer: TimerHandle = undefined;
  #stopListening: (() => void) | undefined;
  #fail?: (reason: unknown) => void;
  #done = false;
  #endedWith: unknown;
  readonly #clock: Clock;

  constructor(
    keySpace: string,
    lifetime: AbortSignal | undefined,
    timeoutMs: number | undefined,
    clock: Clock,
    onTimeout: () => unknown,
  ) {
    this.#clock = clock;
    const signal = (): AbortSignal => this.signal;
    this.context = {
      get signal(): AbortSignal {
        return signal();
      },
      keySpace,
    };
    if (lifetime?.aborted === true) {
      this.#end(lifetime.reason);
      return;
    }
    if (lifetime !== undefined) this.#stopListening = onAbort(lifetime, () => this.#end(lifetime.reason));
    if (timeoutMs !== undefined) {
      // Kept alive: a caller waits for this call, and must get the timeout even when the source
      // waits on nothing that holds the process open (a promise that never settles).
      this.#timer = setDeadline(
        clock,
        timeoutMs,
        () => {
          if (!this.#done) this.#end(onTimeout());
        },
        true,
      );
    }
  }

  /** Aborted when the call ends (made on first read). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.ended) this.#controller.abort(this.#endedWith);
    }
    return this.#controller.signal;
  }

  /** True once the call ended (timeout, engine stopping). */
  get ended(): boolean {
    return this.#endedWith !== undefined;
  }

  /** What the call ended with; `undefined` while it has not. */
  get endedWith(): unknown {
    return this.#endedWith;
  }

  /**
   * Starts the work, unless the call has ended already (the engine stopped before it started), and
   * settles as it does, or rejects with the reason the call ended with, whichever is first. A
   * synchronous throw of `start` is its rejection. One call runs one piece of work: call it once.
   */
  run<R>(start: () => Promise<R>): Promise<R> {
    if (this.ended) return Promise.reject(this.#endedWith);
    let work: Promise<R>;
    try {
      work = start();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<R>((resolve, reject) => {
      this.#fail = reject;
      work.then(resolve, reject);
    });
  }

  /** Clears the timer and the listener; the call no longer ends (call it once the work settled). */
  dispose(): void {
    this.#done = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#stopListening?.();
    this.#timer = undefined;
    this.#stopListening = undefined;
    this.#fail = undefined;
  }

  #end(reason: unknown): void {
    if (this.#done || this.ended) return;
    // What callers are rejected with: never undefined, so `ended` can rely on it.
    this.#endedWith = reason ?? new Error('the data-source call ended');
    const fail = this.#fail;
    this.dispose();
    this.#controller?.abort(this.#endedWith);
    fail?.(this.#endedWith);
  }
}
