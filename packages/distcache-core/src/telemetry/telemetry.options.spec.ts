import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import { resolveTelemetryOptions } from './telemetry.options';

describe('resolveTelemetryOptions', () => {
  it('fills defaults: metrics and traces on, keys off, global providers', () => {
    expect(resolveTelemetryOptions()).toEqual({
      enabled: true,
      meterProvider: undefined,
      tracerProvider: undefined,
      metrics: true,
      traces: true,
      recordKeys: false,
    });
    expect(resolveTelemetryOptions(false)).toMatchObject({ enabled: false, metrics: false, traces: false });
  });

  it('names the field it rejects', () => {
    const cases: Array<[unknown, string]> = [
      [{ metrics: 1 }, 'telemetry.metrics'],
      [{ traces: 'no' }, 'telemetry.traces'],
      [{ recordKeys: null }, 'telemetry.recordKeys'],
      [{ tracerProvider: {} }, 'telemetry.tracerProvider'],
      [{ meterProvider: { getMeter: 1 } }, 'telemetry.meterProvider'],
      [{ exporter: {} }, 'telemetry.exporter'],
      ['on', 'telemetry'],
    ];
    for (const [input, field] of cases) {
      let caught: unknown;
      try {
        resolveTelemetryOptions(input as never);
      } catch (error) {
        caught = error;
      }
      expect(isDistCacheError(caught, 'E_INVALID_OPTION'), field).toBe(true);
      expect((caught as Error).message, field).toContain(field);
    }
  });
});
