import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent } from './trace-context';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';

describe('traceparent', () => {
  it('round-trips a sampled and an unsampled context', () => {
    for (const traceFlags of [0, 1]) {
      const text = formatTraceparent({ traceId, spanId, traceFlags });
      expect(text).toBe(`00-${traceId}-${spanId}-0${traceFlags}`);
      expect(parseTraceparent(text)).toEqual({ traceId, spanId, traceFlags });
    }
  });

  it('refuses malformed values, version ff and all-zero ids', () => {
    for (const text of [
      undefined,
      '',
      'garbage',
      `00-${traceId}-${spanId}`,
      `00-${traceId.toUpperCase()}-${spanId}-01`,
      `ff-${traceId}-${spanId}-01`,
      `00-${'0'.repeat(32)}-${spanId}-01`,
      `00-${traceId}-${'0'.repeat(16)}-01`,
      `00-${traceId}-${spanId}-01-extra`,
    ]) {
      expect(parseTraceparent(text), String(text)).toBeUndefined();
    }
  });

  it('accepts later versions with extra fields', () => {
    expect(parseTraceparent(`01-${traceId}-${spanId}-01-future`)).toEqual({ traceId, spanId, traceFlags: 1 });
  });
});
