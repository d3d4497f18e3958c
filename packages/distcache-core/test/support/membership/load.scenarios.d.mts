// Types of load.scenarios.mjs for the TypeScript specs.
export interface PauseOptions {
  entries?: number;
  valueBytes?: number;
  pauseMs?: number;
  loadPerSecond?: number;
  settleMs?: number;
  /** How many nodes pause, one after the other (c, then b, then a). @default 1 */
  pausedNodes?: number;
  clusterOptions?: Record<string, unknown>;
  seed?: number;
}
export interface PauseFigures {
  entries: number;
  pauseMs: number;
  warmCalls: number;
  sourceCalls: number;
  dropped: number;
  dropEvents: number;
  peerLeft: number;
  converged: boolean;
  pausedNodes: number;
  /** Load errors by code, by node name (a, b, c; c pauses first). */
  errorsByNode: Record<string, Record<string, number>>;
  requests: number;
}
export function runPause(options?: PauseOptions): Promise<PauseFigures>;

export interface SaturationOptions {
  entries?: number;
  valueBytes?: number;
  durationMs?: number;
  inFlight?: number;
  getManyShare?: number;
  batch?: number;
  seed?: number;
}
export interface SaturationFigures {
  entries: number;
  durationMs: number;
  inFlight: number;
  sourceCalls: number;
  dropped: number;
  dropEvents: number;
  peerLeft: number;
  peerEvents: number;
  errors: Record<string, number>;
  requests: number;
  requestsPerSecond: number;
}
export function runSaturation(options?: SaturationOptions): Promise<SaturationFigures>;
