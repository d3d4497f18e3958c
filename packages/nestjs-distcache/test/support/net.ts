// Loopback ports and waits come from distcache-core/testing; the cluster timing presets live here.
export { freePorts, waitUntil } from 'distcache-core/testing';

/** Fast failure detection, as in the core cluster tests. */
export const FAST_CLUSTER = {
  pingInterval: 50,
  pingTimeout: 200,
  failureTimeout: 600,
  discoveryInterval: 200,
} as const;

/**
 * Failure detection too slow to explain a prompt removal: with it, a node that disappears from
 * the others' member lists within a second must have left gracefully.
 */
export const SLOW_FAILURE_DETECTION = { ...FAST_CLUSTER, failureTimeout: 20_000 } as const;
