// OpenTelemetry metrics and spans of a standalone engine, read back through the SDK's in-memory
// pieces: instrument names, units, attributes and outcomes, span names and attributes.
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTRIBUTE_NAMES as A,
  DistCacheEngine,
  type KeySpaceDefinition,
  METRIC_NAMES,
  SPAN_NAMES,
} from '../../src';
import { type Product, product, rejectionOf, startedEngine } from '../support/engine.fixture';
import type { EngineProbe } from '../../src/telemetry/engine.probe';
import {
  pointsWith,
  type TestMeter,
  testMeter,
  type TestTracer,
  testTracer,
  useAsyncContext,
} from '../support/otel';

let engine: DistCacheEngine | undefined;
let removeContext: () => void = () => undefined;
beforeAll(() => {
  removeContext = useAsyncContext();
});
afterAll(() => removeContext());
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

async function instrumented(
  keySpace: Partial<KeySpaceDefinition<Product>> = {},
  telemetry: { recordKeys?: boolean } = {},
): Promise<{ meter: TestMeter; tracer: TestTracer } & Awaited<ReturnType<typeof startedEngine>>> {
  const meter = testMeter();
  const tracer = testTracer();
  const setup = await startedEngine(keySpace, {
    telemetry: { meterProvider: meter.provider, tracerProvider: tracer.provider, ...telemetry },
  });
  engine = setup.engine;
  return { ...setup, meter, tracer };
}

const count = (points: ReturnType<typeof pointsWith>): number =>
  points.reduce((sum, point) => sum + (point.value as Histogram).count, 0);

const probeOf = (target: DistCacheEngine): EngineProbe => (target as unknown as { probe: EngineProbe }).probe;

describe('OpenTelemetry metrics', () => {
  it('records engine calls by operation and outcome, in seconds', async () => {
    const { engine: e, source, meter } = await instrumented();
    await e.get('products', '1'); // miss, loaded
    await e.get('products', '1'); // hit
    await e.get('products', '1'); // hit
    await e.get('products', 'nope'); // miss, not found
    await e.put('products', '9', product('9'));
    await e.delete('products', '9');
    await e.getMany('products', ['1', '2']);
    source.failWith = new Error('db down');
    await rejectionOf(e.get('products', '3'));

    const metrics = await meter.collect();
    // Every call is counted (from the keyspace counters, batch keys one by one)...
    const requests = metrics.get(METRIC_NAMES.requests);
    expect(requests?.descriptor).toMatchObject({ unit: '{request}', type: 'OBSERVABLE_COUNTER' });
    const get = { [A.keySpace]: 'products', [A.operation]: 'get' };
    const total = (attributes: Record<string, string>) => pointsWith(requests, attributes)[0]?.value;
    expect(total({ ...get, [A.outcome]: 'hit' })).toBe(3);
    expect(total({ ...get, [A.outcome]: 'miss' })).toBe(4);
    expect(total({ [A.operation]: 'put' })).toBe(1);
    expect(total({ [A.operation]: 'delete' })).toBe(1);
    // ...and every call but a hit is timed, with its outcome.
    const durations = metrics.get(METRIC_NAMES.operationDuration);
    expect(durations?.descriptor).toMatchObject({ unit: 's', type: 'HISTOGRAM' });
    expect(count(pointsWith(durations, { ...get, [A.outcome]: 'hit' }))).toBe(0);
    expect(count(pointsWith(durations, { ...get, [A.outcome]: 'miss' }))).toBe(2);
    const errors = pointsWith(durations, { ...get, [A.outcome]: 'error' });
    expect(errors.map((point) => point.attributes[A.errorType])).toEqual(['E_DATASOURCE_FAILED']);
    for (const operation of ['put', 'delete', 'get_many']) {
      expect(count(pointsWith(durations, { [A.operation]: operation, [A.outcome]: 'ok' })), operation).toBe(
        1,
      );
    }
    // Durations are seconds: a local call takes far less than one.
    const miss = pointsWith(durations, { ...get, [A.outcome]: 'miss' })[0]!.value as Histogram;
    expect(miss.max).toBeLessThan(1);

    const loads = metrics.get(METRIC_NAMES.loadDuration);
    expect(loads?.descriptor.unit).toBe('s');
    expect(count(pointsWith(loads, { [A.keySpace]: 'products', [A.outcome]: 'found' }))).toBe(2);
    expect(count(pointsWith(loads, { [A.outcome]: 'not_found' }))).toBe(1);
    // A load's error.type is what the source threw (its class name), or the code of the signal's reason.
    expect(pointsWith(loads, { [A.outcome]: 'error' })[0]?.attributes[A.errorType]).toBe('Error');
  });

  it('observes occupancy, evictions, members and breaker state from the engine counters', async () => {
    const { engine: e, meter } = await instrumented({ maxBytes: 1_000, circuitBreaker: true });
    for (const id of ['1', '2', '3', '4', '5']) await e.get('products', id);
    const stats = e.stats().keySpaces.products!;
    expect(stats.evictions).toBeGreaterThan(0);

    const metrics = await meter.collect();
    const ks = { [A.keySpace]: 'products' };
    const value = (name: string, attributes: Record<string, string> = ks): unknown =>
      pointsWith(metrics.get(name), attributes)[0]?.value;
    expect(value(METRIC_NAMES.keySpaceBytes)).toBe(stats.bytes);
    expect(metrics.get(METRIC_NAMES.keySpaceBytes)?.descriptor.unit).toBe('By');
    expect(value(METRIC_NAMES.keySpaceLimit)).toBe(1_000);
    expect(value(METRIC_NAMES.keySpaceEntries, { ...ks, [A.entryKind]: 'owned' })).toBe(stats.items);
    expect(value(METRIC_NAMES.keySpaceEntries, { ...ks, [A.entryKind]: 'hot' })).toBe(0);
    expect(value(METRIC_NAMES.evictions)).toBe(stats.evictions);
    expect(value(METRIC_NAMES.members, {})).toBe(1);
    expect(value(METRIC_NAMES.breakerState, { ...ks, [A.breakerState]: 'closed' })).toBe(1);
    expect(value(METRIC_NAMES.breakerState, { ...ks, [A.breakerState]: 'open' })).toBe(0);
    for (const name of [
      METRIC_NAMES.loadsInFlight,
      METRIC_NAMES.expirations,
      METRIC_NAMES.dedupedLoads,
      METRIC_NAMES.rejectedLoads,
      METRIC_NAMES.staleHits,
      METRIC_NAMES.fallbackLoads,
    ]) {
      expect(metrics.has(name), name).toBe(true);
    }
  });

  it('tells stale answers apart, with and without revalidation', async () => {
    for (const staleWhileRevalidate of [false, true]) {
      const {
        engine: e,
        source,
        clock,
        meter,
      } = await instrumented({ ttl: '1m', grace: '5m', staleWhileRevalidate });
      await e.get('products', '1');
      await clock.advance(60_000);
      source.failWith = new Error('db down');
      expect((await e.get<Product>('products', '1'))?.id).toBe('1');
      const durations = (await meter.collect()).get(METRIC_NAMES.operationDuration);
      expect(count(pointsWith(durations, { [A.outcome]: 'stale' })), `swr ${staleWhileRevalidate}`).toBe(1);
      await e.stop();
    }
  });

  it('stops observing a stopped engine', async () => {
    const { engine: e, meter } = await instrumented();
    await e.stop();
    const metrics = await meter.collect();
    expect(pointsWith(metrics.get(METRIC_NAMES.members), {})).toEqual([]);
    expect(probeOf(e).instrumentation).toBeUndefined();
  });
});

describe('OpenTelemetry spans', () => {
  it('names engine calls and loads, with keyspace, operation and outcome', async () => {
    const { engine: e, tracer } = await instrumented();
    await e.get('products', '1');
    await e.get('products', '1');
    await e.put('products', '2', product('2'));
    await e.delete('products', '2');
    await e.getMany('products', ['3', '4']);
    const spans = tracer.spans();
    // The hit has no span: it takes less time than recording one would.
    expect(spans.map((span) => span.name)).toEqual([
      SPAN_NAMES.load,
      SPAN_NAMES.get,
      SPAN_NAMES.put,
      SPAN_NAMES.delete,
      SPAN_NAMES.load,
      SPAN_NAMES.load,
      SPAN_NAMES.getMany,
    ]);
    const [load, miss] = spans;
    expect(miss!.attributes).toEqual({ [A.keySpace]: 'products', [A.operation]: 'get', [A.outcome]: 'miss' });
    expect(miss!.kind).toBe(SpanKind.INTERNAL);
    // The load runs inside the get that missed.
    expect(load!.parentSpanContext?.spanId).toBe(miss!.spanContext().spanId);
    expect(load!.attributes).toMatchObject({
      [A.keySpace]: 'products',
      [A.keyCount]: 1,
      [A.outcome]: 'found',
    });
    expect(spans.some((span) => A.key in span.attributes)).toBe(false);
    expect(spans[6]!.attributes).toMatchObject({
      [A.operation]: 'get_many',
      [A.keyCount]: 2,
      [A.outcome]: 'ok',
    });
  });

  it('marks failures and records keys only when asked', async () => {
    const { engine: e, source, tracer } = await instrumented({}, { recordKeys: true });
    source.failWith = new Error('db down');
    await rejectionOf(e.get('products', '1'));
    const [load, get] = tracer.spans();
    expect(get!.status.code).toBe(SpanStatusCode.ERROR);
    expect(get!.attributes).toMatchObject({
      [A.key]: '1',
      [A.outcome]: 'error',
      [A.errorType]: 'E_DATASOURCE_FAILED',
    });
    expect(load!.attributes).toMatchObject({ [A.key]: '1', [A.outcome]: 'error' });
    expect(get!.events.map((event) => event.name)).toEqual(['exception']);
  });
});

describe('without an OpenTelemetry SDK', () => {
  it('instruments nothing when no provider is registered or given', async () => {
    const setup = await startedEngine();
    engine = setup.engine;
    expect(probeOf(setup.engine).instrumentation).toBeUndefined();
    expect(probeOf(setup.engine).misses).toBe(false);
    expect(probeOf(setup.engine).batchReads).toBe(false);
  });

  it('instruments nothing with telemetry: false, even with providers at hand', async () => {
    const setup = await startedEngine({}, { telemetry: false });
    engine = setup.engine;
    expect(probeOf(setup.engine).instrumentation).toBeUndefined();
  });

  it('validates the telemetry option at construction', () => {
    expect(() => new DistCacheEngine({ telemetry: { metrics: 'yes' as unknown as boolean } })).toThrow(
      /telemetry\.metrics/,
    );
    expect(() => new DistCacheEngine({ telemetry: { meterProvider: {} as never } })).toThrow(
      /telemetry\.meterProvider/,
    );
  });
});
