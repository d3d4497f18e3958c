import type { Attributes, Span } from '@opentelemetry/api';
import type { PeerEvent } from '../cluster/peer-event';
import type { StatsSnapshot } from './stats-snapshot';
import type { KeySpace, LoadProbe } from '../keyspace/keyspace';
import type { PeerTransport } from '../transport/transport';
import type { Logger } from '../util/logger';
import { getChannel, loadChannel, membershipChannel, type ReadOutcome } from './diagnostics.channels';
import { InstrumentedPeerTransport } from './instrumented.transport';
import { OtelInstrumentation } from './otel.instrumentation';
import { loadOtelApi, pickProviders } from './otel.loader';
import {
  ATTRIBUTE_NAMES as A,
  type LoadOutcome,
  SPAN_NAMES,
  type TelemetryOperation,
  type TelemetryOutcome,
} from './telemetry.names';
import type { ResolvedTelemetryOptions } from './telemetry.options';

export interface EngineProbeDeps {
  readonly nodeName: string;
  readonly telemetry: ResolvedTelemetryOptions;
  readonly logger: Logger;
}

/**
 * The engine's one telemetry hook. The engine asks a single boolean (`reads`, `misses`, `writes`)
 * before a call and goes through the probe only when OpenTelemetry is on or someone subscribed to
 * a diagnostics channel; otherwise the call runs exactly as it would without telemetry. A read
 * that hits is never timed or traced unless a `distcache:get` subscriber asks for every read.
 */
export class EngineProbe implements LoadProbe {
  private otel: OtelInstrumentation | undefined;

  constructor(private readonly deps: EngineProbeDeps) {}

  /** The OpenTelemetry instrumentation while the engine runs with an SDK listening. */
  get instrumentation(): OtelInstrumentation | undefined {
    return this.otel;
  }

  get nodeName(): string {
    return this.deps.nodeName;
  }

  /** True when every read must be observed: someone subscribed to `distcache:get`. */
  get reads(): boolean {
    return getChannel.hasSubscribers;
  }

  /**
   * True when reads that miss are traced and timed (OpenTelemetry on). Hits are not: they take
   * well under a microsecond, less than a span or a histogram record would; the keyspace counters
   * count them and are observed at collection time.
   */
  get misses(): boolean {
    return this.otel !== undefined;
  }

  /** True when `getMany` calls are observed (OpenTelemetry on, or a `distcache:get` subscriber). */
  get batchReads(): boolean {
    return this.otel !== undefined || getChannel.hasSubscribers;
  }

  /** True when writes are observed (OpenTelemetry on). */
  get writes(): boolean {
    return this.otel !== undefined;
  }

  /**
   * Loads `@opentelemetry/api` and picks the providers. Leaves OpenTelemetry off when the API is
   * missing, no SDK is registered (nor given), or `telemetry: false`.
   */
  async start(snapshot: () => StatsSnapshot): Promise<void> {
    const { telemetry, logger } = this.deps;
    if (!telemetry.enabled || this.otel !== undefined) return;
    const api = await loadOtelApi();
    if (api === undefined) {
      logger.debug('telemetry: @opentelemetry/api is not installed; no metrics or spans');
      return;
    }
    const { meter, tracer } = pickProviders(api, telemetry);
    if (meter === undefined && tracer === undefined) {
      logger.debug('telemetry: no OpenTelemetry SDK registered; no metrics or spans');
      return;
    }
    this.otel = new OtelInstrumentation(api, meter, tracer, snapshot);
    logger.debug('telemetry: OpenTelemetry on', {
      metrics: meter !== undefined,
      traces: tracer !== undefined,
    });
  }

  /** Stops observing the engine. Idempotent. */
  stop(): void {
    this.otel?.close();
    this.otel = undefined;
  }

  /**
   * Runs `fn` outside any trace, so timers and connections it starts (purge, refresh-ahead, pings)
   * do not attach their spans to whatever span was active when the engine started.
   */
  detached<R>(fn: () => R): R {
    return this.otel === undefined ? fn() : this.otel.detached(fn);
  }

  /** Wraps a peer transport so requests sent and served are measured and carry the trace. */
  transport(inner: PeerTransport): PeerTransport {
    return new InstrumentedPeerTransport(inner, this);
  }

  /**
   * Publishes one `get` on `distcache:get`. `space` is read to tell a hit (and a stale value) from
   * a miss.
   */
  get<T>(space: KeySpace | undefined, keySpace: string, key: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const counters = space?.counts;
    const hits = counters?.hits;
    const staleHits = counters?.staleHits;
    const promise = run();
    // Hits, and stale values served while revalidating, are decided before the first await.
    let outcome: ReadOutcome | undefined;
    if (counters !== undefined && counters.hits !== hits) outcome = 'hit';
    else if (counters !== undefined && counters.staleHits !== staleHits) outcome = 'stale';
    const publish = (settled: ReadOutcome, error?: unknown): void => {
      if (!getChannel.hasSubscribers) return;
      const durationMs = performance.now() - started;
      const { nodeName: node } = this.deps;
      getChannel.publish({ node, operation: 'get', keySpace, key, outcome: settled, durationMs, error });
    };
    return promise.then(
      (value) => {
        publish(outcome ?? missOrStale(space, key));
        return value;
      },
      (error: unknown) => {
        publish('error', error);
        throw error;
      },
    );
  }

  /**
   * Traces and times a `get` that missed (OpenTelemetry on): a `distcache.get` span around the load
   * or the request to the owner, and a `distcache.operation.duration` record.
   */
  miss<T, R>(space: KeySpace<T>, keySpace: string, key: string, run: () => Promise<R>): Promise<R> {
    const otel = this.otel as OtelInstrumentation;
    const started = performance.now();
    const span = otel.internalSpan(SPAN_NAMES.get, this.spanAttributes(keySpace, 'get', key));
    const staleHits = space.counts.staleHits;
    const promise = span === undefined ? run() : otel.runIn(span, run);
    const revalidating = space.counts.staleHits !== staleHits;
    return promise.then(
      (value) => {
        const outcome = revalidating ? 'stale' : missOrStale(space, key);
        this.finish(otel, span, 'get', keySpace, outcome, performance.now() - started);
        return value;
      },
      (error: unknown) => {
        this.finish(otel, span, 'get', keySpace, 'error', performance.now() - started, error);
        throw error;
      },
    );
  }

  /** Observes one `getMany`. */
  getMany<T>(keySpace: string, keys: unknown, run: () => Promise<T>): Promise<T> {
    const otel = this.otel;
    const started = performance.now();
    const list: readonly string[] = Array.isArray(keys) ? (keys as string[]) : [];
    const attributes = { [A.keySpace]: keySpace, [A.operation]: 'get_many', [A.keyCount]: list.length };
    const span = otel?.internalSpan(SPAN_NAMES.getMany, attributes);
    const promise = span === undefined ? run() : (otel as OtelInstrumentation).runIn(span, run);
    const end = (outcome: 'ok' | 'error', error?: unknown): void => {
      const durationMs = performance.now() - started;
      this.finish(otel, span, 'get_many', keySpace, outcome, durationMs, error);
      if (!getChannel.hasSubscribers) return;
      const { nodeName: node } = this.deps;
      getChannel.publish({ node, operation: 'getMany', keySpace, keys: list, outcome, durationMs, error });
    };
    return promise.then(
      (value) => {
        end('ok');
        return value;
      },
      (error: unknown) => {
        end('error', error);
        throw error;
      },
    );
  }

  /** Observes a `put`/`putMany` or `delete`/`deleteMany` (entries or keys in `items`). */
  write<T>(operation: 'put' | 'delete', keySpace: string, items: unknown, run: () => Promise<T>): Promise<T> {
    const otel = this.otel;
    if (otel === undefined) return run();
    const started = performance.now();
    const list: readonly unknown[] = Array.isArray(items) ? items : [];
    const first: unknown = list[0];
    const key =
      list.length !== 1 ? undefined : typeof first === 'string' ? first : (first as { key?: unknown })?.key;
    const attributes = this.spanAttributes(keySpace, operation, typeof key === 'string' ? key : undefined);
    attributes[A.keyCount] = list.length;
    const span = otel.internalSpan(operation === 'put' ? SPAN_NAMES.put : SPAN_NAMES.delete, attributes);
    const promise = span === undefined ? run() : otel.runIn(span, run);
    return promise.then(
      (value) => {
        this.finish(otel, span, operation, keySpace, 'ok', performance.now() - started);
        return value;
      },
      (error: unknown) => {
        this.finish(otel, span, operation, keySpace, 'error', performance.now() - started, error);
        throw error;
      },
    );
  }

  /**
   * Observes one data-source call. The span and the measurement end when the call settles or when
   * its `signal` fires (read timeout, engine stopping), whichever comes first. The signal is read
   * only when something observes (it is made on first read, `SourceCall`).
   */
  load<R>(
    keySpace: string,
    keys: readonly string[],
    call: { readonly signal: AbortSignal },
    run: () => Promise<R>,
  ): Promise<R> {
    const otel = this.otel;
    if (otel === undefined && !loadChannel.hasSubscribers) return run();
    const signal = call.signal;
    const started = performance.now();
    const attributes: Attributes = { [A.keySpace]: keySpace, [A.keyCount]: keys.length };
    if (this.deps.telemetry.recordKeys && keys.length === 1) attributes[A.key] = keys[0];
    const span = otel?.internalSpan(SPAN_NAMES.load, attributes);
    let work: Promise<R>;
    try {
      work = span === undefined ? run() : (otel as OtelInstrumentation).runIn(span, run);
    } catch (error) {
      work = Promise.reject(error);
    }
    let settled = false;
    const end = (outcome: LoadOutcome, error?: unknown): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      const durationMs = performance.now() - started;
      if (span !== undefined) otel?.endSpan(span, outcome, error);
      otel?.recordLoad(keySpace, outcome, durationMs / 1e3, error);
      if (!loadChannel.hasSubscribers) return;
      loadChannel.publish({ node: this.deps.nodeName, keySpace, keys, outcome, durationMs, error });
    };
    const onAbort = (): void => end('error', signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // A signal that fired already (the call ended before it started) fires no event.
    if (signal.aborted) onAbort();
    work.then(
      (value) => end(value === undefined ? 'not_found' : 'found'),
      (error: unknown) => end('error', error),
    );
    return work;
  }

  /** Publishes a membership change on `distcache:membership` (members counted only then). */
  membership(event: PeerEvent, members: () => number): void {
    if (!membershipChannel.hasSubscribers) return;
    membershipChannel.publish({ node: this.deps.nodeName, event, members: members() });
  }

  private spanAttributes(
    keySpace: string,
    operation: TelemetryOperation,
    key: string | undefined,
  ): Attributes {
    const attributes: Attributes = { [A.keySpace]: keySpace, [A.operation]: operation };
    if (key !== undefined && this.deps.telemetry.recordKeys) attributes[A.key] = key;
    return attributes;
  }

  private finish(
    otel: OtelInstrumentation | undefined,
    span: Span | undefined,
    operation: TelemetryOperation,
    keySpace: string,
    outcome: TelemetryOutcome,
    durationMs: number,
    error?: unknown,
  ): void {
    if (otel === undefined) return;
    if (span !== undefined) otel.endSpan(span, outcome, error);
    otel.recordOperation(operation, keySpace, outcome, durationMs / 1e3, error);
  }
}

/**
 * After a read that was not a hit: `stale` when the owned entry is still there and past its
 * freshness (the reload failed and grace served it), else `miss`.
 */
function missOrStale<T>(space: KeySpace<T> | undefined, key: string): 'miss' | 'stale' {
  const entry = space?.storage.peek(key);
  return entry !== undefined && entry.found && !(space as KeySpace<T>).isFresh(entry) ? 'stale' : 'miss';
}
