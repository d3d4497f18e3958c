import type { PeerEvent } from '../cluster/peer-event';

export type { PeerEvent };

/** The engine's lifecycle; `stopped` is final. */
export type EngineState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** A keyspace was added, reconfigured or deleted on this node. */
export type KeySpaceEvent =
  | { readonly type: 'added'; readonly name: string }
  | { readonly type: 'updated'; readonly name: string }
  | { readonly type: 'deleted'; readonly name: string };

/** A keyspace's circuit breaker changed state. */
export interface BreakerEvent {
  readonly keySpace: string;
  readonly state: 'closed' | 'open' | 'half-open';
}

/** A stale value (within grace) was served instead of a fresh one. */
export interface StaleEvent {
  readonly keySpace: string;
  readonly key: string;
  /** The load's error code, or `'revalidating'` for stale-while-revalidate. */
  readonly reason: string;
}

/** Event names and payloads of {@link DistCacheEngine}. */
export interface EngineEvents {
  state: [state: EngineState];
  keySpace: [event: KeySpaceEvent];
  peer: [event: PeerEvent];
  breaker: [event: BreakerEvent];
  stale: [event: StaleEvent];
}
