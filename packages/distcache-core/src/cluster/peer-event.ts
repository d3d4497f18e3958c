import type { PeerRef } from './coordinator';

/** Cluster membership changed. */
export type PeerEvent =
  | {
      readonly type: 'joined';
      readonly peer: PeerRef;
      /**
       * True when this node had dropped the peer for a failure: a silence (a pause, a partition),
       * an invalidation it did not acknowledge in time (a slow link, a restart) or a refusal. Its
       * values and ours may come from writes the other never saw: popular keys are not handed to it.
       */
      readonly afterSilence?: boolean;
    }
  | { readonly type: 'left'; readonly peer: PeerRef; readonly reason: 'graceful' | 'failed' | 'undiscovered' }
  | { readonly type: 'updated'; readonly peer: PeerRef };
