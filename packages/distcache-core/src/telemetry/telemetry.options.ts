import { flag, implementing, type OptionFields, optionsObject } from '../util/options';

/** Anything with `getMeter`, such as an OpenTelemetry SDK `MeterProvider`. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): object;
}

/** Anything with `getTracer`, such as an OpenTelemetry SDK `TracerProvider`. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): object;
}

/**
 * OpenTelemetry settings of an engine. distcache uses `@opentelemetry/api` only (an optional peer
 * dependency); the application installs and registers the SDK. When the API is not installed, or
 * no provider is registered (nor given here) when `start()` runs, nothing is instrumented.
 */
export interface TelemetryOptions {
  /** Meter provider to use. @default the global one registered with `@opentelemetry/api` */
  meterProvider?: MeterProviderLike;
  /** Tracer provider to use. @default the global one registered with `@opentelemetry/api` */
  tracerProvider?: TracerProviderLike;
  /** Record metrics. @default true */
  metrics?: boolean;
  /** Record spans. @default true */
  traces?: boolean;
  /**
   * Put keys on spans as `distcache.key`. Keys may hold personal data (an e-mail, a user id), so
   * they are left out unless asked for. Metrics never carry keys.
   * @default false
   */
  recordKeys?: boolean;
}

/** Telemetry options with defaults filled in; `undefined` providers mean "the global one". */
export interface ResolvedTelemetryOptions {
  readonly enabled: boolean;
  readonly meterProvider: MeterProviderLike | undefined;
  readonly tracerProvider: TracerProviderLike | undefined;
  readonly metrics: boolean;
  readonly traces: boolean;
  readonly recordKeys: boolean;
}

const TELEMETRY_FIELDS: OptionFields = {
  what: 'telemetry option',
  fields: ['meterProvider', 'tracerProvider', 'metrics', 'traces', 'recordKeys'],
};

/**
 * Validates the engine's `telemetry` option. `false` turns OpenTelemetry off (diagnostics channels
 * stay available: they cost nothing without subscribers).
 * @throws DistCacheError `E_INVALID_OPTION` naming the field under `telemetry.`
 */
export function resolveTelemetryOptions(options: TelemetryOptions | false = {}): ResolvedTelemetryOptions {
  if (options === false) {
    return Object.freeze({
      enabled: false,
      meterProvider: undefined,
      tracerProvider: undefined,
      metrics: false,
      traces: false,
      recordKeys: false,
    });
  }
  const input: TelemetryOptions = optionsObject(
    options,
    'telemetry',
    TELEMETRY_FIELDS,
    'must be false or an object',
  );
  const { meterProvider, tracerProvider } = input;
  return Object.freeze({
    enabled: true,
    meterProvider:
      meterProvider === undefined
        ? undefined
        : implementing(
            meterProvider,
            'telemetry.meterProvider',
            ['getMeter'],
            'must have a getMeter() method',
          ),
    tracerProvider:
      tracerProvider === undefined
        ? undefined
        : implementing(
            tracerProvider,
            'telemetry.tracerProvider',
            ['getTracer'],
            'must have a getTracer() method',
          ),
    metrics: flag(input.metrics, 'telemetry.metrics', true),
    traces: flag(input.traces, 'telemetry.traces', true),
    recordKeys: flag(input.recordKeys, 'telemetry.recordKeys', false),
  });
}
