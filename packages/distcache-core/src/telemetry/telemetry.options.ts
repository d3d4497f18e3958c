import { invalidOption } from '../errors/messages';

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

const KNOWN: ReadonlySet<string> = new Set([
  'meterProvider',
  'tracerProvider',
  'metrics',
  'traces',
  'recordKeys',
]);

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
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('telemetry', 'must be false or an object', options);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw invalidOption(`telemetry.${key}`, 'is not a known telemetry option');
  }
  const flag = (name: 'metrics' | 'traces' | 'recordKeys', fallback: boolean): boolean => {
    const value = options[name] === undefined ? fallback : options[name];
    if (typeof value !== 'boolean') throw invalidOption(`telemetry.${name}`, 'must be a boolean', value);
    return value;
  };
  const { meterProvider, tracerProvider } = options;
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    throw invalidOption('telemetry.meterProvider', 'must have a getMeter() method');
  }
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') {
    throw invalidOption('telemetry.tracerProvider', 'must have a getTracer() method');
  }
  return Object.freeze({
    enabled: true,
    meterProvider,
    tracerProvider,
    metrics: flag('metrics', true),
    traces: flag('traces', true),
    recordKeys: flag('recordKeys', false),
  });
}
