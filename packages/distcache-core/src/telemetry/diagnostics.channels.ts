import { channel } from 'node:diagnostics_channel';
import type { PeerEvent } from '../cluster/peer-event';
import type { PeerRequestOp } from '../transport/transport';
import type { LoadOutcome, TelemetryOutcome } from './telemetry.names';

/**
 * Names of the `node:diagnostics_channel` channels distcache publishes on. A message is built and
 * published only while the channel has subscribers; without one the cost is a property read.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe(DIAGNOSTICS_CHANNELS.get, (message) => console.log(message as GetChannelMessage));
 */
export const DIAGNOSTICS_CHANNELS = {
  /** Every `get` and `getMany`, when it settles: {@link GetChannelMessage}. */
  get: 'distcache:get',
  /** Every data-source call of this node, when it settles: {@link LoadChannelMessage}. */
  load: 'distcache:load',
  /** Every request sent to or served for a peer, when it settles: {@link PeerRequestChannelMessage}. */
  peerRequest: 'distcache:peer-request',
  /** Every membership change: {@link MembershipChannelMessage}. */
  membership: 'distcache:membership',
} as const;

/** Fields every message carries. */
interface ChannelMessageBase {
  /** `nodeName` of the engine that published it (several engines may share a process). */
  readonly node: string;
}

/** Published on `distcache:get` when a read settles. */
export type GetChannelMessage = ChannelMessageBase & {
  readonly keySpace: string;
  /** Milliseconds from the call to its settlement. */
  readonly durationMs: number;
  /** The error the call rejected with (`outcome: 'error'`). */
  readonly error?: unknown;
} & (
    | {
        readonly operation: 'get';
        readonly key: string;
        readonly outcome: 'hit' | 'miss' | 'stale' | 'error';
      }
    | { readonly operation: 'getMany'; readonly keys: readonly string[]; readonly outcome: 'ok' | 'error' }
  );

/** Published on `distcache:load` when a data-source call settles. */
export interface LoadChannelMessage extends ChannelMessageBase {
  readonly keySpace: string;
  /** The keys of the call: one for `fetch`, several for a `fetchMany` batch. */
  readonly keys: readonly string[];
  readonly outcome: LoadOutcome;
  readonly durationMs: number;
  readonly error?: unknown;
}

/** Published on `distcache:peer-request` when a request to or from a peer settles. */
export interface PeerRequestChannelMessage extends ChannelMessageBase {
  /** `outgoing`: this node asked `peer`; `incoming`: this node served `peer`. */
  readonly direction: 'outgoing' | 'incoming';
  readonly operation: PeerRequestOp;
  /** `host:port` of the other node. */
  readonly peer: string;
  readonly outcome: 'ok' | 'error';
  /** The `DistCacheError` code of a failure (thrown, or answered by the peer). */
  readonly errorCode?: string;
  readonly durationMs: number;
}

/** Published on `distcache:membership` when a peer joins, leaves or is updated. */
export interface MembershipChannelMessage extends ChannelMessageBase {
  readonly event: PeerEvent;
  /** Members on the ring after the change, this node included. */
  readonly members: number;
}

/** Outcome of a read as published (narrower than the telemetry outcome). */
export type ReadOutcome = Extract<TelemetryOutcome, 'hit' | 'miss' | 'stale' | 'error'>;

// Channels are created once per process; `channel()` returns the same object for a name.
export const getChannel = channel(DIAGNOSTICS_CHANNELS.get);
export const loadChannel = channel(DIAGNOSTICS_CHANNELS.load);
export const peerRequestChannel = channel(DIAGNOSTICS_CHANNELS.peerRequest);
export const membershipChannel = channel(DIAGNOSTICS_CHANNELS.membership);
