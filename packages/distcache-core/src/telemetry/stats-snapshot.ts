import type { KeySpaceStats } from '../keyspace/keyspace.stats';

/**
 * What telemetry reads of `engine.stats()` when the OpenTelemetry SDK collects. Declared here, not
 * imported from the engine, because the engine sits above telemetry: the engine's `EngineStats` is
 * assignable to it.
 */
export interface StatsSnapshot {
  /** Nodes on the ring, this one included. */
  readonly members: number;
  readonly keySpaces: Readonly<Record<string, KeySpaceStats>>;
}
