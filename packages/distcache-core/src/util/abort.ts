import { aborted, timeout } from '../errors/messages';
import type { Clock } from './clock';

/** What a caller may bound an operation with. */
export interface Deadline {
  /** The caller's signal; when it fires, the caller gets `E_ABORTED`. */
  signal?: AbortSignal | undefined;
  /** Milliseconds the caller is willing to wait; past it the caller gets `E_TIMEOUT`. */
  timeoutMs?: number | undefined;
}

/**
 * Throws `E_ABORTED` when the caller's signal has already fired: an operation is not started for a
 * caller that has given up (a write would otherwise be made while its caller was told it was not).
 */
export function throwIfAborted(deadline: Deadline, operation: string): void {
  const { signal } = deadline;
  if (signal?.aborted === true) throw aborted(operation, signal.reason);
}

function ignoreRejection(): void {
  // The work's own callers see its error.
}

/**
 * Waits for `work` but gives up when the caller's signal fires or its deadline passes. Giving up
 * does not cancel `work` (it may be shared by other callers, as a single-flight load is).
 */
export function waitFor<T>(
  work: Promise<T>,
  deadline: Deadline,
  clock: Clock,
  operation: string,
): Promise<T> {
  const { signal, timeoutMs } = deadline;
  if (signal === undefined && timeoutMs === undefined) return work;
  if (signal?.aborted === true) {
    // The work goes on without this caller (others may share it); a rejection of it that nobody
    // awaited would end the process.
    work.then(undefined, ignoreRejection);
    return Promise.reject(aborted(operation, signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    let timer: unknown;
    let settled = false;
    const onAbort = (): void => {
      cleanup();
      reject(aborted(operation, signal?.reason as unknown));
    };
    const cleanup = (): void => {
      settled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (timeoutMs !== undefined) {
      // The timeout is decided once the input waiting when the timer fired has been read: timers
      // run before a loop turn's poll phase, and after a stall the answer may already be here
      // (see DeadlineTimer). A settled promise ignores the late reject.
      timer = clock.setTimeout(() => {
        timer = undefined;
        setImmediate(() => {
          if (settled) return;
          cleanup();
          reject(timeout(operation, timeoutMs));
        });
      }, timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

/**
 * An AbortSignal that fires when any of `signals` fires or after `timeoutMs`. Returns the signal
 * and a `dispose` that clears the timer and listeners (call it when the work is done, so a
 * long-lived parent signal does not collect listeners).
 */
export function linkedSignal(
  signals: ReadonlyArray<AbortSignal | undefined>,
  timeoutMs: number | undefined,
  clock: Clock,
  onTimeout: () => unknown,
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const listeners: Array<() => void> = [];
  let timer: unknown;
  let disposed = false;
  const dispose = (): void => {
    disposed = true;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    for (const remove of listeners) remove();
    listeners.length = 0;
  };
  for (const parent of signals) {
    if (parent === undefined) continue;
    if (parent.aborted) {
      controller.abort(parent.reason);
      return { signal: controller.signal, dispose };
    }
    const forward = (): void => {
      dispose();
      controller.abort(parent.reason);
    };
    parent.addEventListener('abort', forward, { once: true });
    listeners.push(() => parent.removeEventListener('abort', forward));
  }
  if (timeoutMs !== undefined) {
    // Decided once the input waiting when the timer fired has been read, as in waitFor: after a
    // stall, work whose answer is already in its socket settles (and disposes) first.
    timer = clock.setTimeout(() => {
      timer = undefined;
      setImmediate(() => {
        if (disposed) return;
        dispose();
        controller.abort(onTimeout());
      });
    }, timeoutMs);
  }
  return { signal: controller.signal, dispose };
}

/** Rejects with `signal.reason` as soon as `signal` aborts, even if `work` never settles. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
