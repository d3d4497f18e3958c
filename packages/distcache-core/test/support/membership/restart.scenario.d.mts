// Types of restart.scenario.mjs for the TypeScript specs.
export interface RestartOptions {
  downMs?: number;
  /** One kill and restart per entry (of c, then b, then a), each followed by `afterMs` of load. @default [downMs] */
  downtimes?: number[];
  seed?: number;
  keyCount?: number;
  readsPerSecond?: number;
  writesPerSecond?: number;
  beforeMs?: number;
  afterMs?: number;
  clusterOptions?: Record<string, unknown>;
}
export interface RestartFigures {
  downtimes: number[];
  seed: number;
  reads: number;
  writes: number;
  staleReads: number;
  staleByNode: Record<string, number>;
  /** The first stale reads: node, key, versions, when (ms since the load started) and the write missed. */
  examples: string[];
  /** Kills, starts and ring agreement, in ms since the load started. */
  timeline: string[];
  failures: Record<string, number>;
  rejoined: boolean;
  /** Per restart: until every ring saw 3 members again. */
  rejoinMs: number[];
}
export function runRestart(options?: RestartOptions): Promise<RestartFigures>;
