import type { FetchContext } from './datasource';
import { ignoreRejection, onAbort } from '../util/abort';
import { type Clock, setDeadline, type TimerHandle } from '../util/clock';

/**
 * One data-source call's context and bounds: the call ends when `timeoutMs` passes or `lifetime`
 * (the engine's) aborts, whichever comes first, and {@link SourceCall.bound} then rejects with the
 * reason at once, even if the source never settles.
 *
 * The AbortSignal the source is handed (`context.signal`) is made only when the source reads it.
 * Most sources never do, and an AbortController, its signal and the listeners that wired it to the
 * timer and the engine's signal were ~10 µs of a miss's ~85 µs of CPU (bench/README.md, "Issue 18,
 * eighth session"). A signal read after the call ended comes back already aborted, with the reason.
 */
export class SourceCall implements FetchContext {
  private controller: AbortController | undefined;
  private timer: TimerHandle = undefined;
  private stopListening: (() => void) | undefined;
  private fail?: (reason: unknown) => void;
  private done = false;
  /** Set once the call ended (timeout, engine stopping): what it ended with. */
  endedWith: unknown;

  constructor(
    readonly keySpace: string,
    lifetime: AbortSignal | undefined,
    timeoutMs: number | undefined,
    private readonly clock: Clock,
    onTimeout: () => unknown,
  ) {
    if (lifetime?.aborted === true) {
      this.end(lifetime.reason);
      return;
    }
    if (lifetime !== undefined) this.stopListening = onAbort(lifetime, () => this.end(lifetime.reason));
    if (timeoutMs !== undefined) this.timer = setDeadline(clock, timeoutMs, () => this.end(onTimeout()));
  }

  /** Aborted when the call ends: pass it to the database driver or `fetch()`. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.endedWith !== undefined) this.controller.abort(this.endedWith);
    }
    return this.controller.signal;
  }

  /** True once the call ended (see {@link endedWith}). */
  get ended(): boolean {
    return this.endedWith !== undefined;
  }

  /** Settles as `work` does, or rejects with the reason the call ended with, whichever is first. */
  bound<R>(work: Promise<R>): Promise<R> {
    if (this.ended) {
      work.then(undefined, ignoreRejection);
      return Promise.reject(this.endedWith);
    }
    return new Promise<R>((resolve, reject) => {
      this.fail = reject;
      work.then(resolve, reject);
    });
  }

  /** Clears the timer and the listener; the call no longer ends (call it once the work settled). */
  dispose(): void {
    this.done = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.stopListening?.();
    this.timer = undefined;
    this.stopListening = undefined;
    this.fail = undefined;
  }

  private end(reason: unknown): void {
    if (this.done || this.ended) return;
    // A reason is what callers are rejected with: never undefined, so `ended` can rely on it.
    this.endedWith = reason ?? new Error('the data-source call ended');
    const fail = this.fail;
    this.dispose();
    this.controller?.abort(this.endedWith);
    fail?.(this.endedWith);
  }
}
