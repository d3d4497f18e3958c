import type { PeerRef } from './coordinator';

/** Cluster membership changed. */
export type PeerEvent =
  | {
      readonly type: 'joined';
      readonly peer: PeerRef;
      /**
       * True when this node had dropped the peer for silence (a pause, a partition) or because it
       * did not acknowledge an invalidation in time (a slow link, a restart): its values and ours
       * may come from writes the other never saw, so popular keys are not handed to it.
       */
      readonly afterSilence?: boolean;
    }
  | { readonly type: 'left'; readonly peer: PeerRef; readonly reason: 'graceful' | 'failed' | 'undiscovered' }
  | { readonly type: 'updated'; readonly peer: PeerRef };
