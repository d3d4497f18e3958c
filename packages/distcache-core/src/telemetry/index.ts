// Telemetry surface: OpenTelemetry options and names, diagnostics channels and their messages.
export {
  type TelemetryOptions,
  type ResolvedTelemetryOptions,
  type MeterProviderLike,
  type TracerProviderLike,
  resolveTelemetryOptions,
} from './telemetry.options';
export {
  METRIC_NAMES,
  SPAN_NAMES,
  ATTRIBUTE_NAMES,
  DURATION_BUCKETS,
  type TelemetryOperation,
  type TelemetryOutcome,
  type LoadOutcome,
} from './telemetry.names';
export {
  DIAGNOSTICS_CHANNELS,
  type GetChannelMessage,
  type LoadChannelMessage,
  type PeerRequestChannelMessage,
  type MembershipChannelMessage,
  type ReadOutcome,
} from './diagnostics.channels';
