// Types of restart.scenario.mjs for the TypeScript specs.
export interface RestartOptions {
  downMs?: number;
  seed?: number;
  keyCount?: number;
  readsPerSecond?: number;
  writesPerSecond?: number;
  beforeMs?: number;
  afterMs?: number;
  clusterOptions?: Record<string, unknown>;
}
export interface RestartFigures {
  downMs: number;
  seed: number;
  reads: number;
  writes: number;
  staleReads: number;
  staleByNode: Record<string, number>;
  examples: string[];
  failures: Record<string, number>;
  rejoined: boolean;
  rejoinMs: number;
}
export function runRestart(options?: RestartOptions): Promise<RestartFigures>;
