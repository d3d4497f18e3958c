import type { Span } from '@opentelemetry/api';
import { DistCacheError } from '../errors/distcache-error';
import { formatPeerAddress } from '../transport/peer-address';
import type {
  PeerAddress,
  PeerIdentity,
  PeerRequest,
  PeerRequestHandler,
  PeerRequestMeta,
  PeerRequestOp,
  PeerRequestOptions,
  PeerReply,
  PeerResponse,
  PeerTransport,
  PeerTransportEvents,
} from '../transport/transport';
import { peerRequestChannel } from './diagnostics.channels';
import { errorType, type OtelInstrumentation, type PeerDirection } from './otel.instrumentation';

/** What the transport wrapper reads from the engine's probe, at every request. */
export interface PeerProbe {
  readonly instrumentation: OtelInstrumentation | undefined;
  readonly nodeName: string;
}

/** Requests that never belong to a caller's trace (the failure detector and goodbyes). */
const UNTRACED: ReadonlySet<PeerRequestOp> = new Set(['ping', 'leave', 'probe', 'sync']);

/**
 * A {@link PeerTransport} that measures requests sent and served, and carries the caller's trace
 * to the peer in the request's `meta` (`traceparent`, `tracestate`). With OpenTelemetry off and no
 * `distcache:peer-request` subscriber, each call is passed straight through.
 */
export class InstrumentedPeerTransport implements PeerTransport {
  constructor(
    private readonly inner: PeerTransport,
    private readonly probe: PeerProbe,
  ) {}

  listen(handler: PeerRequestHandler, events?: PeerTransportEvents): Promise<PeerAddress> {
    return this.inner.listen(
      (request, from, signal, meta) =>
        this.observed()
          ? this.serve(handler, request, from, signal, meta)
          : handler(request, from, signal, meta),
      events,
    );
  }

  lastHeardFrom(peer: PeerAddress): number | undefined {
    return this.inner.lastHeardFrom?.(peer);
  }

  request(peer: PeerAddress, request: PeerRequest, options: PeerRequestOptions): Promise<PeerResponse> {
    return this.observed() ? this.send(peer, request, options) : this.inner.request(peer, request, options);
  }

  disconnect(peer: PeerAddress): void {
    this.inner.disconnect?.(peer);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private observed(): boolean {
    return this.probe.instrumentation !== undefined || peerRequestChannel.hasSubscribers;
  }

  private send(peer: PeerAddress, request: PeerRequest, options: PeerRequestOptions): Promise<PeerResponse> {
    const otel = this.probe.instrumentation;
    const started = performance.now();
    const id = formatPeerAddress(peer);
    const span = UNTRACED.has(request.op)
      ? undefined
      : otel?.peerClientSpan(request.op, id, peer.host, peer.port);
    const sent =
      span === undefined || otel === undefined
        ? options
        : { ...options, meta: otel.inject(span, options.meta) };
    const promise = this.inner.request(peer, request, sent);
    promise.then(
      (response) => this.settle('client', otel, span, request.op, id, started, answeredError(response)),
      (error: unknown) => this.settle('client', otel, span, request.op, id, started, error),
    );
    return promise;
  }

  private serve(
    handler: PeerRequestHandler,
    request: PeerRequest,
    from: PeerIdentity,
    signal: AbortSignal,
    meta: PeerRequestMeta,
  ): Promise<PeerReply> {
    const otel = this.probe.instrumentation;
    const started = performance.now();
    const id = formatPeerAddress(from.address);
    const span = otel?.peerServerSpan(request.op, id, meta);
    const run = (): Promise<PeerReply> => handler(request, from, signal, meta);
    let promise: Promise<PeerReply>;
    try {
      promise = span === undefined || otel === undefined ? run() : otel.runIn(span, run);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (response) => this.settle('server', otel, span, request.op, id, started, answeredError(response)),
      (error: unknown) => this.settle('server', otel, span, request.op, id, started, error),
    );
    return promise;
  }

  private settle(
    direction: PeerDirection,
    otel: OtelInstrumentation | undefined,
    span: Span | undefined,
    operation: PeerRequestOp,
    peer: string,
    started: number,
    error: unknown,
  ): void {
    const durationMs = performance.now() - started;
    const errorCode = error === undefined ? undefined : errorType(error);
    const outcome = error === undefined ? 'ok' : 'error';
    if (span !== undefined) otel?.endSpan(span, outcome, error);
    otel?.recordPeer(direction, operation, peer, durationMs / 1e3, errorCode);
    if (!peerRequestChannel.hasSubscribers) return;
    peerRequestChannel.publish({
      node: this.probe.nodeName,
      direction: direction === 'client' ? 'outgoing' : 'incoming',
      operation,
      peer,
      outcome,
      ...(errorCode === undefined ? {} : { errorCode }),
      durationMs,
    });
  }
}

/** A peer's `error` answer as an error (it is a response, not a rejection, on the wire). */
function answeredError(response: PeerReply): DistCacheError | undefined {
  return response.op === 'error' ? new DistCacheError(response.code, response.message) : undefined;
}
