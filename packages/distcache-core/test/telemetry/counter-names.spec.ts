// One name per counter: a keyspace counter is spelled the same way in engine.stats() (camelCase),
// OpenTelemetry (`distcache.<snake_case>`) and Prometheus (`distcache_<snake_case>_total`).
import { describe, expect, it } from 'vitest';
import { COUNTERS } from '../../src/admin/prometheus';
import { newCounters } from '../../src/keyspace/keyspace.stats';
import { METRIC_NAMES, snakeCase } from '../../src/telemetry/telemetry.names';

describe('counter names', () => {
  it('exports every keyspace counter to Prometheus under its own field name', () => {
    expect(COUNTERS.map(([field]) => field).sort()).toEqual(Object.keys(newCounters()).sort());
  });

  it('names each OpenTelemetry counter that mirrors a stats field after that field', () => {
    const counters = new Set(Object.keys(newCounters()));
    const mirrored = Object.entries(METRIC_NAMES).filter(([key]) => counters.has(key));
    expect(mirrored.map(([key]) => key).sort()).toEqual([
      'dedupedLoads',
      'evictions',
      'expirations',
      'fallbackLoads',
      'staleHits',
      'tagInvalidations',
    ]);
    for (const [field, name] of mirrored) expect(name).toBe(`distcache.${snakeCase(field)}`);
  });

  it('writes camelCase fields in snake_case', () => {
    expect(snakeCase('dedupedLoads')).toBe('deduped_loads');
    expect(snakeCase('peerRequestsServed')).toBe('peer_requests_served');
  });
});
