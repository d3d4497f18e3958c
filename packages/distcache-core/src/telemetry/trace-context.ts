/**
 * W3C Trace Context (`traceparent`) as carried in a peer request's `meta`. distcache writes and
 * reads the header itself rather than through the global propagator: both ends are distcache, and
 * the trace must cross even when the application registered another propagator (or none).
 */

/** The meta entry holding the caller's span context. */
export const TRACEPARENT = 'traceparent';
/** The meta entry holding the caller's vendor trace state, when it has any. */
export const TRACESTATE = 'tracestate';

/** The parts of a span context that travel. */
export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

const PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** `00-<trace id>-<span id>-<flags>`. */
export function formatTraceparent(context: TraceParent): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * Parses a `traceparent` value; `undefined` when it is malformed, of the forbidden version `ff`,
 * or carries all-zero ids (the receiver then starts no remote child).
 */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined) return undefined;
  const match = PATTERN.exec(value.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && value.trim().length !== 55)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) };
}
