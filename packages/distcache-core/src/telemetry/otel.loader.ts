import type * as OtelApiModule from '@opentelemetry/api';
import type { ResolvedTelemetryOptions } from './telemetry.options';

/** The `@opentelemetry/api` module, loaded on demand. */
export type OtelApi = typeof OtelApiModule;

/** Instrumentation scope of every meter and tracer distcache asks for. */
export const INSTRUMENTATION_SCOPE = 'distcache-core';

/**
 * Loads `@opentelemetry/api` (an optional peer dependency) once per process; `undefined` when it is
 * not installed. A dynamic import keeps the engine loadable without it, in both module systems.
 */
let loading: Promise<OtelApi | undefined> | undefined;
export function loadOtelApi(): Promise<OtelApi | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (api) => api,
    () => undefined,
  );
  return loading;
}

/** What the engine may instrument with: each part `undefined` when nothing would record it. */
export interface OtelProviders {
  readonly meter: OtelApiModule.Meter | undefined;
  readonly tracer: OtelApiModule.Tracer | undefined;
}

/**
 * Picks the meter and tracer: the providers given in the options, else the globally registered
 * ones. With no SDK registered the API hands out no-op implementations; those are detected here
 * and left out, so an application without an SDK pays nothing per call, not even no-op calls.
 */
export function pickProviders(api: OtelApi, options: ResolvedTelemetryOptions): OtelProviders {
  return {
    meter: options.metrics ? pickMeter(api, options) : undefined,
    tracer: options.traces ? pickTracer(api, options) : undefined,
  };
}

function pickMeter(api: OtelApi, options: ResolvedTelemetryOptions): OtelApiModule.Meter | undefined {
  const provider = (options.meterProvider ?? api.metrics.getMeterProvider()) as OtelApiModule.MeterProvider;
  const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
  return meter === api.createNoopMeter() ? undefined : meter;
}

function pickTracer(api: OtelApi, options: ResolvedTelemetryOptions): OtelApiModule.Tracer | undefined {
  if (options.tracerProvider !== undefined) {
    return (options.tracerProvider as OtelApiModule.TracerProvider).getTracer(INSTRUMENTATION_SCOPE);
  }
  // The global provider is a proxy that has no delegate until an SDK registers one. Another copy
  // of the API may have registered it, hence the duck typing rather than `instanceof`.
  const provider: OtelApiModule.TracerProvider & { getDelegateTracer?: (name: string) => unknown } =
    api.trace.getTracerProvider();
  if (
    typeof provider.getDelegateTracer === 'function' &&
    provider.getDelegateTracer(INSTRUMENTATION_SCOPE) === undefined
  ) {
    return undefined;
  }
  return provider.getTracer(INSTRUMENTATION_SCOPE);
}
