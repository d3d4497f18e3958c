import { ChurnTable } from '../util/churn-table';

/** One load in progress, shared by every caller that asked for the same key meanwhile. */
export interface Flight<R> {
  readonly promise: Promise<R>;
  /**
   * Set when a write or delete of the key happened while the load ran: the load's result must not
   * be stored, because it may predate the write.
   */
  invalidated: boolean;
  /** Callers waiting on this flight: 1 for the one that started it, plus every one that joined. */
  waiters: number;
}

/**
 * Per-key single-flight: at most one load per key at a time. Callers that arrive while a load runs
 * join it. Invalidating a key detaches its flight, so later callers start a fresh load.
 */
export class SingleFlight<R> {
  private readonly flights = new ChurnTable<string, Flight<R>>();

  get size(): number {
    return this.flights.size;
  }

  /** The running flight for `key`, if any. */
  get(key: string): Flight<R> | undefined {
    return this.flights.get(key);
  }

  /**
   * Starts a flight for `key` with `load`, which receives the flight (to check `invalidated`
   * before storing). The flight removes itself from the table when it settles.
   */
  start(key: string, load: (flight: Flight<R>) => Promise<R>): Flight<R> {
    const flight: { promise: Promise<R>; invalidated: boolean; waiters: number } = {
      promise: undefined as unknown as Promise<R>,
      invalidated: false,
      waiters: 1,
    };
    this.flights.set(key, flight);
    flight.promise = load(flight).finally(() => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    });
    // Every caller may have given up (timeout, abort) before the load settles; a failure nobody
    // waits for any more must not surface as an unhandled rejection.
    flight.promise.catch(() => undefined);
    return flight;
  }

  /** Marks the flight of `key` invalidated and detaches it. */
  invalidate(key: string): void {
    const flight = this.flights.get(key);
    if (flight === undefined) return;
    flight.invalidated = true;
    this.flights.delete(key);
  }

  /** Invalidates every flight (keyspace deleted, engine stopping). */
  invalidateAll(): void {
    for (const flight of this.flights.values()) flight.invalidated = true;
    this.flights.clear();
  }
}
