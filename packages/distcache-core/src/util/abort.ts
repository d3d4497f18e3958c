import { aborted, timeout } from '../errors/messages';
import { type Clock, setDeadline } from './clock';

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
    let stopListening: (() => void) | undefined;
    const cleanup = (): void => {
      settled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      stopListening?.();
    };
    if (timeoutMs !== undefined) {
      // Decided after the turn's input: after a stall the answer may already be here.
      // Kept alive: the caller is waiting for it (see Clock.setTimeout).
      timer = setDeadline(
        clock,
        timeoutMs,
        () => {
          if (settled) return;
          cleanup();
          reject(timeout(operation, timeoutMs));
        },
        true,
      );
    }
    if (signal !== undefined) {
      stopListening = onAbort(signal, () => {
        cleanup();
        reject(aborted(operation, signal.reason as unknown));
      });
    }
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

/** Rejects with `signal.reason` as soon as `signal` aborts, even if `work` never settles. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // As in waitFor: `work` runs on without a listener, and its rejection would end the process.
    work.then(undefined, ignoreRejection);
    return Promise.reject(signal.reason as Error);
  }
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

/** Listeners of each parent signal, behind one real listener per signal (see {@link onAbort}). */
const fanOuts = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `listener` once when `signal` aborts; returns its removal. O(1) either way: Node's
 * `EventTarget.addEventListener` walks every listener already registered, so thousands of loads in
 * flight, each listening on the engine's lifetime signal, cost O(n^2) (measured: a cold
 * `getMany` of 20,000 keys without `fetchMany` spent 2.5 s of its 4.1 s in `addEventListener`).
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  let listeners = fanOuts.get(signal);
  if (listeners === undefined) {
    const created = new Set<() => void>();
    listeners = created;
    fanOuts.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        fanOuts.delete(signal);
        for (const notify of created) notify();
        created.clear();
      },
      { once: true },
    );
  }
  const registered = listeners;
  // A wrapper per call, so that one listener function registered twice is two registrations.
  const entry = (): void => listener();
  registered.add(entry);
  return () => {
    registered.delete(entry);
  };
}
