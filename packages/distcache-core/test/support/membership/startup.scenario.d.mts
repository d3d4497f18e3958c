// Types of startup.scenario.mjs for the TypeScript specs.
export interface StartupFigures {
  keys: number;
  sourceCalls: number;
  membersAtStart: number[];
  /** Per node; null when its ring never became complete. */
  startAfterRingMs: Array<number | null>;
  startReadErrors: number;
}
export function runStartup(options?: {
  keyCount?: number;
  run?: number;
  clusterOptions?: Record<string, unknown>;
}): Promise<StartupFigures>;
