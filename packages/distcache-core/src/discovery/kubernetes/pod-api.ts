import type { DistCacheError } from '../../errors/distcache-error';

/** One page of pods and the resource version to watch from. */
export interface PodList {
  readonly items: readonly unknown[];
  readonly resourceVersion: string | undefined;
}

/**
 * How a watch ended: the server closed it (resume from the last resource version), the resource
 * version expired (HTTP 410 Gone: re-list), or it failed (re-list after a backoff).
 */
export type PodWatchOutcome =
  | { readonly kind: 'closed' }
  | { readonly kind: 'expired' }
  | { readonly kind: 'failed'; readonly error: DistCacheError };

/** Callbacks of one watch. `onEnd` is called exactly once, also after the caller stops it. */
export interface PodWatchEvents {
  /** The server accepted the watch (HTTP 200). */
  onOpen(): void;
  /** ADDED, MODIFIED, DELETED or BOOKMARK, with the object as sent. */
  onEvent(type: string, object: unknown): void;
  onEnd(outcome: PodWatchOutcome): void;
}

/** The two calls the provider makes to the Kubernetes API; the seam tests could fake. */
export interface PodApi {
  /**
   * Lists the selected pods.
   * @throws DistCacheError `E_DISCOVERY_FAILED`
   */
  list(signal: AbortSignal): Promise<PodList>;
  /** Watches the selected pods from `resourceVersion`; returns a function that stops the watch. */
  watch(resourceVersion: string | undefined, events: PodWatchEvents): () => void;
}
