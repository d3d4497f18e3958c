// Test helpers for users of distcache-core and for its own suites: a manual clock and a data
// source that records calls.
export { ManualClock, settle } from './manual-clock';
export { RecordingSource, type RecordedCall } from './recording-source';
