// Trace context across the peer protocol: three engines in one process share one tracer provider,
// so the spans of the asking node and of the owner land in one exporter and must form one trace.
import { trace } from '@opentelemetry/api';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTE_NAMES as A, METRIC_NAMES, SPAN_NAMES } from '../../src';
import { ownerOf, startCluster, stopAll, type TestNode } from '../support/cluster';
import { pointsWith, testMeter, testTracer, useAsyncContext } from '../support/otel';

const catalogue = Array.from({ length: 50 }, (_, index): [string, { id: string }] => [
  String(index),
  { id: String(index) },
]);

let nodes: Array<TestNode<{ id: string }>> = [];
let removeContext: () => void = () => undefined;
beforeAll(() => {
  removeContext = useAsyncContext();
});
afterAll(() => removeContext());
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

/** The chain of span names from `span` up to the root, following parent ids within `spans`. */
function ancestry(span: ReadableSpan, spans: readonly ReadableSpan[]): string[] {
  const chain = [span.name];
  let current: ReadableSpan | undefined = span;
  while (current?.parentSpanContext !== undefined) {
    const parentId: string = current.parentSpanContext.spanId;
    current = spans.find((candidate) => candidate.spanContext().spanId === parentId);
    if (current === undefined) throw new Error(`parent ${parentId} of ${chain.at(-1)} was not exported`);
    chain.push(current.name);
  }
  return chain;
}

describe('trace context across peers', () => {
  it("makes the owner's load a descendant of the caller's span, in the caller's trace", async () => {
    const tracer = testTracer();
    const meter = testMeter();
    nodes = await startCluster(
      3,
      catalogue,
      {},
      {
        telemetry: { tracerProvider: tracer.provider, meterProvider: meter.provider },
      },
    );
    const asker = nodes[0]!;
    const key = catalogue.map(([id]) => id).find((id) => ownerOf(nodes, id) !== asker)!;
    const owner = ownerOf(nodes, key);
    tracer.exporter.reset();

    const app = tracer.provider.getTracer('app');
    await app.startActiveSpan('GET /products/:id', async (span) => {
      expect((await asker.engine.get<{ id: string }>('products', key))?.id).toBe(key);
      span.end();
    });

    const spans = tracer.spans();
    const caller = spans.find((span) => span.name === 'GET /products/:id')!;
    const load = spans.find((span) => span.name === SPAN_NAMES.load)!;
    expect(owner.source.callsFor(key)).toBe(1);
    expect(load.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(ancestry(load, spans)).toEqual([
      SPAN_NAMES.load,
      `${SPAN_NAMES.peerPrefix}get`, // SERVER, on the owner
      `${SPAN_NAMES.peerPrefix}get`, // CLIENT, on the asking node
      SPAN_NAMES.get,
      'GET /products/:id',
    ]);
    const [server, client] = spans
      .filter((span) => span.name === `${SPAN_NAMES.peerPrefix}get`)
      .sort(
        (a, b) => a.kind - b.kind, // SERVER (1) before CLIENT (2)
      );
    expect(server!.parentSpanContext?.isRemote).toBe(true);
    expect(client!.attributes).toMatchObject({ [A.peerOperation]: 'get', [A.peerAddress]: owner.id });
    expect(server!.attributes).toMatchObject({ [A.peerOperation]: 'get', [A.outcome]: 'ok' });
    // Pings are measured but never traced: every span exported belongs to the one trace.
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(
      new Set([caller.spanContext().traceId]),
    );

    const metrics = await meter.collect();
    const sent = pointsWith(metrics.get(METRIC_NAMES.peerClientDuration), {
      [A.peerOperation]: 'get',
      [A.peerAddress]: owner.id,
      [A.outcome]: 'ok',
    });
    expect(sent.map((point) => (point.value as Histogram).count)).toEqual([1]);
    expect(
      pointsWith(metrics.get(METRIC_NAMES.peerServerDuration), { [A.peerOperation]: 'get' }),
    ).toHaveLength(1);
    expect(
      pointsWith(metrics.get(METRIC_NAMES.peerClientDuration), { [A.peerOperation]: 'ping' }).length,
    ).toBeGreaterThan(0);
  });

  it('starts the trace at the get when the caller is not traced', async () => {
    const tracer = testTracer();
    nodes = await startCluster(3, catalogue, {}, { telemetry: { tracerProvider: tracer.provider } });
    const asker = nodes[0]!;
    const key = catalogue.map(([id]) => id).find((id) => ownerOf(nodes, id) !== asker)!;
    tracer.exporter.reset();
    expect(trace.getActiveSpan()).toBeUndefined();
    await asker.engine.get('products', key);
    const spans = tracer.spans();
    // The get is a root span; the owner's work continues its trace, and nothing else is exported.
    expect(spans.map((span) => span.name).sort()).toEqual(
      [SPAN_NAMES.get, SPAN_NAMES.load, `${SPAN_NAMES.peerPrefix}get`, `${SPAN_NAMES.peerPrefix}get`].sort(),
    );
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
  });
});
