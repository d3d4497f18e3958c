import type { DataSource, FetchContext } from '../datasource/datasource';

/** A call the {@link RecordingSource} received. */
export interface RecordedCall {
  readonly key: string;
  readonly signal: AbortSignal;
}

/**
 * A data source for tests that serves from a map, records every call, and can be told to fail or
 * hang. Use it to assert how many times (and for which keys) the cache called its source.
 */
export class RecordingSource<T> implements DataSource<T> {
  readonly calls: RecordedCall[] = [];
  readonly batchCalls: Array<readonly string[]> = [];
  readonly data: Map<string, T>;
  /** When set, `fetch` rejects with it. */
  failWith: Error | undefined = undefined;
  /** When true, `fetch` never settles unless its signal aborts. */
  hang = false;
  private gates: Array<() => void> = [];
  private gated = false;

  constructor(entries: Iterable<[string, T]> = []) {
    this.data = new Map(entries);
  }

  /** Calls made for `key`. */
  callsFor(key: string): number {
    return this.calls.filter((call) => call.key === key).length;
  }

  /** Holds every `fetch` until {@link release} is called. */
  hold(): void {
    this.gated = true;
  }

  /** Lets held fetches continue. */
  release(): void {
    this.gated = false;
    const gates = this.gates;
    this.gates = [];
    for (const open of gates) open();
  }

  async fetch(key: string, context: FetchContext): Promise<T | undefined> {
    this.calls.push({ key, signal: context.signal });
    await this.wait(context.signal);
    if (this.failWith !== undefined) throw this.failWith;
    return this.data.get(key);
  }

  private async wait(signal: AbortSignal): Promise<void> {
    if (this.hang) {
      await new Promise<never>((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
      );
    }
    if (this.gated) await new Promise<void>((resolve) => this.gates.push(resolve));
  }
}
