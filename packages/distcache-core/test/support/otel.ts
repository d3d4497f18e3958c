// OpenTelemetry SDK pieces for tests: an in-memory span exporter, a metric reader collected on
// demand, and an AsyncLocalStorage context manager (what the Node SDK registers in applications).
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, type ContextManager, context, ROOT_CONTEXT } from '@opentelemetry/api';
import { type DataPoint, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** Context propagation through async calls, as `@opentelemetry/context-async-hooks` provides it. */
class AsyncLocalStorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(ctx, () => fn(...args))) as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}

/** Registers the async context manager globally; returns the function that removes it. */
export function useAsyncContext(): () => void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  return () => context.disable();
}

/** A reader the test collects from when it wants. */
class ManualReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }

  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export interface TestMeter {
  readonly provider: MeterProvider;
  /** Every metric collected now, by name. */
  collect(): Promise<Map<string, MetricData>>;
}

export function testMeter(): TestMeter {
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new Error(`metric collection failed: ${errors.map(String).join('; ')}`);
      const byName = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
      }
      return byName;
    },
  };
}

/** The data points of `metric` whose attributes include `attributes`. */
export function pointsWith(
  metric: MetricData | undefined,
  attributes: Record<string, string | number>,
): Array<DataPoint<unknown>> {
  if (metric === undefined) return [];
  return (metric.dataPoints as Array<DataPoint<unknown>>).filter((point) =>
    Object.entries(attributes).every(([name, value]) => point.attributes[name] === value),
  );
}

export interface TestTracer {
  readonly provider: BasicTracerProvider;
  readonly exporter: InMemorySpanExporter;
  spans(): ReadableSpan[];
}

export function testTracer(): TestTracer {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { provider, exporter, spans: () => exporter.getFinishedSpans() };
}
