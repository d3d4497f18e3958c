// Test helpers for users of distcache-core and for its own suites: a manual clock, a data source
// that records calls, loopback ports and waits for cluster tests, and the conformance checks every
// discovery provider must pass.
export { ManualClock, settle } from './manual-clock';
export { RecordingSource, type RecordedCall } from './recording-source';
export { freePorts, waitUntil } from './loopback';
export {
  discoveryConformanceChecks,
  type ConformanceCheck,
  type DiscoveryConformanceSubject,
} from './discovery-conformance';
