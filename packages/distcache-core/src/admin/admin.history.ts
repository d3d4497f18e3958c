import type { AdminTarget } from './admin.views';

/** Counters of one keyspace at one moment, as the dashboard charts them. */
export interface KeySpaceSample {
  readonly gets: number;
  readonly hits: number;
  readonly loads: number;
  readonly loadErrors: number;
  readonly staleHits: number;
}

/** One sample of every keyspace's counters. */
export interface HistorySample {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly keySpaces: Readonly<Record<string, KeySpaceSample>>;
}

/** Body of `GET /history`: the samples of the last minutes, oldest first. */
export interface HistoryView {
  readonly node: string;
  readonly intervalMs: number;
  readonly samples: readonly HistorySample[];
}

/** How often the admin server samples the counters for `/history`. */
export const HISTORY_INTERVAL_MS = 2_000;
/** How far back `/history` goes. */
export const HISTORY_WINDOW_MS = 5 * 60_000;

/**
 * A ring of counter samples taken every {@link HISTORY_INTERVAL_MS} while the admin server runs,
 * so a dashboard opened now can draw the last minutes at once. Reading the counters costs the
 * engine nothing on its read path.
 */
export class StatsHistory {
  private samples: HistorySample[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly target: AdminTarget,
    private readonly intervalMs = HISTORY_INTERVAL_MS,
    private readonly windowMs = HISTORY_WINDOW_MS,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.samples = [];
  }

  view(): HistoryView {
    return { node: this.target.stats().nodeName, intervalMs: this.intervalMs, samples: this.samples };
  }

  private sample(): void {
    const at = Date.now();
    const keySpaces: Record<string, KeySpaceSample> = {};
    for (const [name, space] of Object.entries(this.target.stats().keySpaces)) {
      const { gets, hits, loads, loadErrors, staleHits } = space;
      keySpaces[name] = { gets, hits, loads, loadErrors, staleHits };
    }
    this.samples.push({ at, keySpaces });
    const oldest = at - this.windowMs;
    while (this.samples.length > 0 && (this.samples[0] as HistorySample).at < oldest) this.samples.shift();
  }
}
