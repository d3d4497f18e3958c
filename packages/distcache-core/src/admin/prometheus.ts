import type { KeySpaceCounters } from '../keyspace/keyspace.stats';
import { snakeCase } from '../telemetry/telemetry.names';
import { type AdminTarget, readyView } from './admin.views';

/** Each keyspace counter as exported: `distcache_<field in snake_case>_total{keyspace="..."}`. */
export const COUNTERS: ReadonlyArray<[keyof KeySpaceCounters, string]> = [
  ['gets', 'Reads (get calls and getMany keys)'],
  ['hits', 'Reads answered from this node (hot copies and remembered misses included)'],
  ['misses', 'Reads not in the cache'],
  ['hotHits', 'Reads answered from a hot copy of a key another node owns'],
  ['loads', 'Data-source calls made by this node'],
  ['dedupedLoads', 'Reads that joined a load already running'],
  ['loadErrors', 'Loads that failed'],
  ['staleHits', 'Stale values served within grace'],
  ['rateLimited', 'Loads refused by a rate limit'],
  ['circuitRejected', 'Loads refused by an open breaker'],
  ['evictions', 'Entries evicted to stay within maxBytes'],
  ['expirations', 'Entries removed because they expired'],
  ['puts', 'Entries written'],
  ['deletes', 'Keys deleted'],
  ['peerLoads', 'Reads answered by the owning peer'],
  ['peerErrors', 'Reads from owners that failed, per key'],
  ['fallbackLoads', 'Local loads made because the owner was unreachable'],
  ['peerRequestsServed', 'Requests served for other nodes (a batch of keys counts once)'],
  ['tagInvalidations', 'Tags invalidated on this node (deleteByTags here or on a peer)'],
  ['handOffsStored', 'Popular-key hand-offs stored as the new owner'],
  ['handOffsRefused', 'Popular-key hand-offs refused (key held, loading, or removed or written lately)'],
];

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/** A label value with `\`, `"` and newlines escaped, as the text format requires. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * The engine's counters, occupancy, breakers and membership in the Prometheus text exposition
 * format (version 0.0.4), for users who scrape without an OpenTelemetry pipeline. Counts are
 * totals since each keyspace was added on this node.
 */
export function prometheusText(target: AdminTarget): string {
  const stats = target.stats();
  const lines: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge', help: string): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  const spaces = Object.entries(stats.keySpaces);

  family('distcache_info', 'gauge', 'This node: name, cluster and engine state');
  lines.push(
    `distcache_info{node="${label(stats.nodeName)}",cluster="${label(stats.cluster)}",state="${stats.state}"} 1`,
  );
  const ready = readyView(target);
  family('distcache_ready', 'gauge', '1 when the engine runs and the quorum is met');
  lines.push(`distcache_ready ${ready.ready ? 1 : 0}`);
  family('distcache_members', 'gauge', 'Members on the ring, this node included');
  lines.push(`distcache_members ${stats.members}`);
  family('distcache_min_members', 'gauge', 'Quorum the node waits for at start');
  lines.push(`distcache_min_members ${ready.minMembers}`);

  for (const [field, help] of COUNTERS) {
    const name = snakeCase(field);
    family(`distcache_${name}_total`, 'counter', help);
    for (const [keySpace, space] of spaces) {
      lines.push(`distcache_${name}_total{keyspace="${label(keySpace)}"} ${space[field]}`);
    }
  }
  const gauges: ReadonlyArray<[string, string, (space: (typeof spaces)[number][1]) => number]> = [
    [
      'distcache_keyspace_bytes',
      'Memory held, counted against maxBytes (values, keys, hot copies, bookkeeping)',
      (space) => space.bytes,
    ],
    ['distcache_keyspace_max_bytes', 'Memory budget of the keyspace (maxBytes)', (space) => space.maxBytes],
    ['distcache_keyspace_items', 'Entries held, hot copies included', (space) => space.items],
    ['distcache_keyspace_hot_items', 'Hot copies held', (space) => space.hotItems],
    ['distcache_keyspace_in_flight', 'Loads running now', (space) => space.inFlight],
    ['distcache_keyspace_hit_ratio', 'hits / gets since the keyspace was added', (space) => space.hitRatio],
  ];
  for (const [name, help, read] of gauges) {
    family(name, 'gauge', help);
    for (const [keySpace, space] of spaces)
      lines.push(`${name}{keyspace="${label(keySpace)}"} ${read(space)}`);
  }
  family(
    'distcache_breaker_state',
    'gauge',
    '1 for the current breaker state of a keyspace, 0 for the others',
  );
  for (const [keySpace, space] of spaces) {
    if (space.breaker === 'none') continue;
    for (const state of BREAKER_STATES) {
      lines.push(
        `distcache_breaker_state{keyspace="${label(keySpace)}",state="${state}"} ${space.breaker === state ? 1 : 0}`,
      );
    }
  }
  const peers = target.peers();
  family('distcache_peer_ownership_share', 'gauge', 'Share of the hash space each known node owns');
  for (const peer of peers) {
    const labels = `peer="${label(peer.id)}",node="${label(peer.nodeName ?? '')}",status="${peer.status}"`;
    lines.push(`distcache_peer_ownership_share{${labels}} ${peer.ownershipShare}`);
  }
  family('distcache_peer_up', 'gauge', '1 when the node is on the ring (self, alive or suspect)');
  for (const peer of peers) {
    const up = peer.status === 'self' || peer.status === 'alive' || peer.status === 'suspect' ? 1 : 0;
    lines.push(`distcache_peer_up{peer="${label(peer.id)}",node="${label(peer.nodeName ?? '')}"} ${up}`);
  }
  return `${lines.join('\n')}\n`;
}
