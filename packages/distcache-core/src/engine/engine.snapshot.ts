import type { KeySpace } from '../keyspace/keyspace';
import type { KeySpaceConfigSnapshot } from './engine.types';

/** The effective configuration of a keyspace as `stats()` reports it (durations in ms). */
export function snapshot(space: KeySpace): KeySpaceConfigSnapshot {
  const config = space.config;
  return {
    maxBytes: config.maxBytes,
    maxValueBytes: config.maxValueBytes,
    ttlMs: config.ttlMs ?? null,
    negativeTtlMs: config.negativeTtlMs,
    readTimeoutMs: config.readTimeoutMs,
    writeTimeoutMs: config.writeTimeoutMs,
    valueMode: config.valueMode,
    codec: config.codec.name,
    hasDataSource: config.dataSource !== undefined,
    batchLoads: config.dataSource?.fetchMany !== undefined,
    graceMs: config.graceMs,
    staleWhileRevalidate: config.staleWhileRevalidate,
    circuitBreaker: config.circuitBreaker ?? null,
    rateLimit: config.rateLimit ?? null,
  };
}
