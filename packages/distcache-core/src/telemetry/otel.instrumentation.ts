import type {
  Attributes,
  BatchObservableCallback,
  Context,
  Histogram,
  Meter,
  Observable,
  Span,
  SpanKind,
  Tracer,
} from '@opentelemetry/api';
import type { StatsSnapshot } from './stats-snapshot';
import { isDistCacheError } from '../errors/distcache-error';
import type { PeerRequestMeta } from '../transport/transport';
import type { OtelApi } from './otel.loader';
import {
  ATTRIBUTE_NAMES as A,
  DURATION_BUCKETS,
  METRIC_NAMES as M,
  type TelemetryOutcome,
} from './telemetry.names';
import { formatTraceparent, parseTraceparent, TRACEPARENT, TRACESTATE } from './trace-context';

/** Which peer histogram a measurement goes to. */
export type PeerDirection = 'client' | 'server';

/** The `error.type` of a failure: the `DistCacheError` code, else the error's name. */
export function errorType(error: unknown): string {
  if (isDistCacheError(error)) return error.code;
  return error instanceof Error ? error.name : '_OTHER';
}

/**
 * Metrics and spans on top of `@opentelemetry/api`, created once an SDK is known to listen. Counts
 * the engine keeps anyway (keyspace counters, occupancy, breaker state, members) are observed at
 * collection time: reading them costs the read path nothing.
 */
export class OtelInstrumentation {
  private readonly histograms:
    { operation: Histogram; load: Histogram; client: Histogram; server: Histogram } | undefined;
  private readonly observed: { callback: BatchObservableCallback; observables: Observable[] } | undefined;

  constructor(
    private readonly api: OtelApi,
    private readonly meter: Meter | undefined,
    private readonly tracer: Tracer | undefined,
    snapshot: () => StatsSnapshot,
  ) {
    if (meter === undefined) return;
    const histogram = (name: string, description: string): Histogram =>
      meter.createHistogram(name, {
        description,
        unit: 's',
        advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
      });
    this.histograms = {
      operation: histogram(M.operationDuration, 'Duration of engine calls (get, get_many, put, delete)'),
      load: histogram(M.loadDuration, 'Duration of data-source calls made by this node'),
      client: histogram(M.peerClientDuration, 'Duration of requests this node sent to peers'),
      server: histogram(M.peerServerDuration, 'Duration of requests this node served for peers'),
    };
    this.observed = observeStats(meter, snapshot);
  }

  /** True when spans are recorded. */
  get tracing(): boolean {
    return this.tracer !== undefined;
  }

  /** Starts a span under `parent` (default: the active context); `undefined` without a tracer. */
  startSpan(name: string, kind: SpanKind, attributes: Attributes, parent?: Context): Span | undefined {
    return this.tracer?.startSpan(name, { kind, attributes }, parent ?? this.api.context.active());
  }

  /** Runs `fn` with `span` as the active span (so spans started inside are its children). */
  runIn<R>(span: Span, fn: () => R): R {
    return this.api.context.with(this.api.trace.setSpan(this.api.context.active(), span), fn);
  }

  /** Runs `fn` with no active span: work it starts does not join the caller's trace. */
  detached<R>(fn: () => R): R {
    return this.api.context.with(this.api.ROOT_CONTEXT, fn);
  }

  /** Ends a span with its outcome; a failure sets the error status and records the exception. */
  endSpan(span: Span, outcome: string, error?: unknown): void {
    span.setAttribute(A.outcome, outcome);
    if (error !== undefined) {
      span.setAttribute(A.errorType, errorType(error));
      span.setStatus({
        code: this.api.SpanStatusCode.ERROR,
        message: String((error as Error)?.message ?? error),
      });
      if (error instanceof Error) span.recordException(error);
    }
    span.end();
  }

  /** A CLIENT span for a peer request, only when the request belongs to a recorded trace. */
  peerClientSpan(operation: string, peerId: string, host: string, port: number): Span | undefined {
    if (this.tracer === undefined) return undefined;
    const parent = this.api.trace.getSpan(this.api.context.active());
    if (parent === undefined || !this.api.isSpanContextValid(parent.spanContext())) return undefined;
    return this.startSpan(`distcache.peer/${operation}`, this.api.SpanKind.CLIENT, {
      [A.peerOperation]: operation,
      [A.peerAddress]: peerId,
      [A.serverAddress]: host,
      [A.serverPort]: port,
    });
  }

  /** A SERVER span for a served request whose sender sent a `traceparent`. */
  peerServerSpan(operation: string, peerId: string, meta: PeerRequestMeta): Span | undefined {
    if (this.tracer === undefined) return undefined;
    const parent = parseTraceparent(meta[TRACEPARENT]);
    if (parent === undefined) return undefined;
    const tracestate = meta[TRACESTATE];
    const context = this.api.trace.setSpanContext(this.api.ROOT_CONTEXT, {
      ...parent,
      isRemote: true,
      ...(tracestate === undefined ? {} : { traceState: this.api.createTraceState(tracestate) }),
    });
    return this.startSpan(
      `distcache.peer/${operation}`,
      this.api.SpanKind.SERVER,
      { [A.peerOperation]: operation, [A.peerAddress]: peerId },
      context,
    );
  }

  /** The request meta carrying `span`'s context to the peer. */
  inject(span: Span, meta: Readonly<Record<string, string>> | undefined): Record<string, string> {
    const context = span.spanContext();
    const carried: Record<string, string> = { ...meta, [TRACEPARENT]: formatTraceparent(context) };
    const state = context.traceState?.serialize();
    if (state !== undefined && state.length > 0) carried[TRACESTATE] = state;
    return carried;
  }

  /** An INTERNAL span (engine calls, loads) under the active context; `undefined` without a tracer. */
  internalSpan(name: string, attributes: Attributes): Span | undefined {
    return this.startSpan(name, this.api.SpanKind.INTERNAL, attributes);
  }

  recordOperation(
    operation: string,
    keySpace: string,
    outcome: TelemetryOutcome,
    seconds: number,
    error?: unknown,
  ): void {
    const attributes: Attributes = { [A.keySpace]: keySpace, [A.operation]: operation, [A.outcome]: outcome };
    if (error !== undefined) attributes[A.errorType] = errorType(error);
    this.histograms?.operation.record(seconds, attributes);
  }

  recordLoad(keySpace: string, outcome: string, seconds: number, error?: unknown): void {
    const attributes: Attributes = { [A.keySpace]: keySpace, [A.outcome]: outcome };
    if (error !== undefined) attributes[A.errorType] = errorType(error);
    this.histograms?.load.record(seconds, attributes);
  }

  recordPeer(
    direction: PeerDirection,
    operation: string,
    peerId: string,
    seconds: number,
    errorCode: string | undefined,
  ): void {
    const attributes: Attributes = {
      [A.peerOperation]: operation,
      [A.peerAddress]: peerId,
      [A.outcome]: errorCode === undefined ? 'ok' : 'error',
    };
    if (errorCode !== undefined) attributes[A.errorType] = errorCode;
    this.histograms?.[direction].record(seconds, attributes);
  }

  /** Stops observing the engine (its callback would otherwise keep it alive). */
  close(): void {
    if (this.observed === undefined || this.meter === undefined) return;
    this.meter.removeBatchObservableCallback(this.observed.callback, this.observed.observables);
  }
}

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/** Registers the observable instruments and one batch callback reading an engine snapshot. */
function observeStats(
  meter: Meter,
  snapshot: () => StatsSnapshot,
): { callback: BatchObservableCallback; observables: Observable[] } {
  const requests = meter.createObservableCounter(M.requests, {
    unit: '{request}',
    description: 'Engine calls by operation and outcome',
  });
  const bytes = meter.createObservableGauge(M.keySpaceBytes, {
    unit: 'By',
    description: 'Memory held, counted against maxBytes (values, keys, hot copies, bookkeeping)',
  });
  const limit = meter.createObservableGauge(M.keySpaceLimit, {
    unit: 'By',
    description: 'maxBytes of the keyspace',
  });
  const entries = meter.createObservableGauge(M.keySpaceEntries, {
    unit: '{entry}',
    description: 'Entries held',
  });
  const inFlight = meter.createObservableGauge(M.loadsInFlight, {
    unit: '{load}',
    description: 'Loads running now',
  });
  const evictions = meter.createObservableCounter(M.evictions, {
    unit: '{entry}',
    description: 'Entries evicted to stay within maxBytes',
  });
  const expirations = meter.createObservableCounter(M.expirations, {
    unit: '{entry}',
    description: 'Entries removed because they expired',
  });
  const deduplicated = meter.createObservableCounter(M.dedupedLoads, {
    unit: '{request}',
    description: 'Reads that joined a running load',
  });
  const rejected = meter.createObservableCounter(M.rejectedLoads, {
    unit: '{load}',
    description: 'Loads refused by a rate limit or an open breaker',
  });
  const stale = meter.createObservableCounter(M.staleHits, {
    unit: '{value}',
    description: 'Stale values served within grace',
  });
  const fallbacks = meter.createObservableCounter(M.fallbackLoads, {
    unit: '{load}',
    description: 'Local loads made because the owner was unreachable',
  });
  const tagInvalidations = meter.createObservableCounter(M.tagInvalidations, {
    unit: '{tag}',
    description: 'Tags invalidated on this node (deleteByTags here or on a peer)',
  });
  const breaker = meter.createObservableGauge(M.breakerState, {
    description: '1 for the current breaker state, 0 for the others',
  });
  const members = meter.createObservableGauge(M.members, {
    unit: '{member}',
    description: 'Members on the ring, this node included',
  });
  const observables: Observable[] = [
    requests,
    bytes,
    limit,
    entries,
    inFlight,
    evictions,
    expirations,
    deduplicated,
    rejected,
    stale,
    fallbacks,
    tagInvalidations,
    breaker,
    members,
  ];
  const callback: BatchObservableCallback = (result) => {
    const stats = snapshot();
    result.observe(members, stats.members);
    for (const [name, space] of Object.entries(stats.keySpaces)) {
      const ks = { [A.keySpace]: name };
      result.observe(requests, space.hits, { ...ks, [A.operation]: 'get', [A.outcome]: 'hit' });
      result.observe(requests, space.misses, { ...ks, [A.operation]: 'get', [A.outcome]: 'miss' });
      result.observe(requests, space.puts, { ...ks, [A.operation]: 'put' });
      result.observe(requests, space.deletes, { ...ks, [A.operation]: 'delete' });
      result.observe(bytes, space.bytes, ks);
      result.observe(limit, space.maxBytes, ks);
      result.observe(entries, space.items - space.hotItems, { ...ks, [A.entryKind]: 'owned' });
      result.observe(entries, space.hotItems, { ...ks, [A.entryKind]: 'hot' });
      result.observe(inFlight, space.inFlight, ks);
      result.observe(evictions, space.evictions, ks);
      result.observe(expirations, space.expirations, ks);
      result.observe(deduplicated, space.dedupedLoads, ks);
      result.observe(rejected, space.rateLimited, { ...ks, [A.rejectionReason]: 'rate_limited' });
      result.observe(rejected, space.circuitRejected, { ...ks, [A.rejectionReason]: 'circuit_open' });
      result.observe(stale, space.staleHits, ks);
      result.observe(fallbacks, space.fallbackLoads, ks);
      result.observe(tagInvalidations, space.tagInvalidations, ks);
      if (space.breaker === 'none') continue;
      for (const state of BREAKER_STATES) {
        const value = space.breaker === state ? 1 : 0;
        result.observe(breaker, value, { ...ks, [A.breakerState]: state.replace('-', '_') });
      }
    }
  };
  meter.addBatchObservableCallback(callback, observables);
  return { callback, observables };
}
