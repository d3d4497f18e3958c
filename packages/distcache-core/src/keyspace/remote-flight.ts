import type { CacheEntry } from './cache-entry';

/**
 * One read of a key from its owner, shared by every caller on this node that asks for the key
 * meanwhile. Whoever sends the request settles it with {@link resolve} or {@link reject}; the
 * promise is made only when somebody waits on it, so a `getMany` batch that reads its results
 * straight from the answer makes none per key.
 */
export class RemoteFlight<T> {
  /**
   * Set when a write or delete of the key happened while the read ran: its answer may predate the
   * write and must not be kept as a hot copy.
   */
  invalidated = false;
  /** Callers waiting on this flight: 1 for the one that started it, plus every one that joined. */
  waiters = 1;
  /** True when the entry it resolved with is the hot copy kept here (see `KeySpace.storeHot`). */
  kept = false;
  private outcome: { entry: CacheEntry<T> } | { error: unknown } | undefined;
  private promiseValue: Promise<CacheEntry<T>> | undefined;
  private settle: ((outcome: { entry: CacheEntry<T> } | { error: unknown }) => void) | undefined;

  constructor(
    readonly key: string,
    private readonly onSettled: (flight: RemoteFlight<T>) => void,
  ) {}

  /** Resolves with the entry (or rejects with the error) this flight settles with. */
  get promise(): Promise<CacheEntry<T>> {
    if (this.promiseValue === undefined) {
      const outcome = this.outcome;
      if (outcome !== undefined) {
        this.promiseValue =
          'entry' in outcome ? Promise.resolve(outcome.entry) : Promise.reject(outcome.error);
      } else {
        this.promiseValue = new Promise<CacheEntry<T>>((resolve, reject) => {
          this.settle = (settled) => ('entry' in settled ? resolve(settled.entry) : reject(settled.error));
        });
      }
      // Made only for a caller that chains onto it: a failure is always handled there.
    }
    return this.promiseValue;
  }

  /** True once resolved or rejected. */
  get settled(): boolean {
    return this.outcome !== undefined;
  }

  /** The entry this flight resolved with. @throws the error it was rejected with, or when unsettled */
  entry(): CacheEntry<T> {
    const outcome = this.outcome;
    if (outcome === undefined) throw new Error(`the read of "${this.key}" has not settled`);
    if ('error' in outcome) throw outcome.error;
    return outcome.entry;
  }

  /** Settles with `entry`; `kept` when it is the hot copy this node keeps. */
  resolve(entry: CacheEntry<T>, kept = false): void {
    if (this.outcome === undefined) this.kept = kept;
    this.finish({ entry });
  }

  reject(error: unknown): void {
    this.finish({ error });
  }

  private finish(outcome: { entry: CacheEntry<T> } | { error: unknown }): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.onSettled(this);
    this.settle?.(outcome);
  }
}
