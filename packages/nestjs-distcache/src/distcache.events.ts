import type { DistCacheEngine, EngineEvents, EngineState, KeySpaceEvent, PeerEvent } from 'distcache-core';
import { Observable, share } from 'rxjs';

/** A keyspace's circuit breaker changed state. */
export type BreakerEvent = EngineEvents['breaker'][0];
/** A stale value (within grace) was served instead of a fresh one. */
export type StaleEvent = EngineEvents['stale'][0];

/**
 * One event of `DistCacheService.events$`, tagged by `kind`:
 * - `state`: the engine moved to `starting`, `running`, `stopping` or `stopped`;
 * - `peer`: a member `joined`, `left` (with `reason`) or was `updated`;
 * - `keySpace`: a keyspace was `added`, `updated` or `deleted` on this node;
 * - `breaker`: a keyspace's circuit breaker changed state;
 * - `stale`: a stale value was served within grace.
 */
export type DistCacheEvent =
  | { readonly kind: 'state'; readonly state: EngineState }
  | ({ readonly kind: 'peer' } & PeerEvent)
  | ({ readonly kind: 'keySpace' } & KeySpaceEvent)
  | ({ readonly kind: 'breaker' } & BreakerEvent)
  | ({ readonly kind: 'stale' } & StaleEvent);

/**
 * The engine's events as one Observable. Listeners are attached while someone is subscribed and
 * shared between subscribers; the stream completes when the engine has stopped.
 */
export function engineEvents(engine: DistCacheEngine): Observable<DistCacheEvent> {
  return new Observable<DistCacheEvent>((subscriber) => {
    if (engine.state === 'stopped') {
      subscriber.complete();
      return undefined;
    }
    const onState = (state: EngineState): void => {
      subscriber.next({ kind: 'state', state });
      if (state === 'stopped') subscriber.complete();
    };
    const onPeer = (event: PeerEvent): void => subscriber.next({ kind: 'peer', ...event });
    const onKeySpace = (event: KeySpaceEvent): void => subscriber.next({ kind: 'keySpace', ...event });
    const onBreaker = (event: BreakerEvent): void => subscriber.next({ kind: 'breaker', ...event });
    const onStale = (event: StaleEvent): void => subscriber.next({ kind: 'stale', ...event });
    engine.on('state', onState);
    engine.on('peer', onPeer);
    engine.on('keySpace', onKeySpace);
    engine.on('breaker', onBreaker);
    engine.on('stale', onStale);
    return () => {
      engine.off('state', onState);
      engine.off('peer', onPeer);
      engine.off('keySpace', onKeySpace);
      engine.off('breaker', onBreaker);
      engine.off('stale', onStale);
    };
  }).pipe(share());
}
