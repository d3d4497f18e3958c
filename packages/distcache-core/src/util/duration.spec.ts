import { describe, expect, it } from 'vitest';
import { type DistCacheError, isDistCacheError } from '../errors/distcache-error';
import { toMs, toOptionalMs, toOrderedMs, toPositiveMs } from './duration';

describe('toMs', () => {
  it.each([
    [0, 0],
    [250, 250],
    [1.2, 2],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    [' 2s ', 2_000],
  ])('converts %j to %d ms', (input, expected) => {
    expect(toMs(input, 'ttl')).toBe(expected);
  });

  it.each([-1, Number.NaN, Infinity, '-1s', '10', '5 minutes', '1w', '', 's', null, {}, true])(
    'rejects %j with E_INVALID_OPTION naming the field',
    (input) => {
      let caught: unknown;
      try {
        toMs(input, 'keySpaces[0].ttl');
      } catch (error) {
        caught = error;
      }
      expect(isDistCacheError(caught, 'E_INVALID_OPTION')).toBe(true);
      expect((caught as Error).message).toContain('keySpaces[0].ttl');
    },
  );

  it('says a number in a string needs a unit, rather than "must be milliseconds" to a "5"', () => {
    // Environment variables are strings: CACHE_TTL=5 read as contradicting the rule (outside tester).
    expect(() => toMs('5', 'keySpaceDefaults.ttl')).toThrow(
      'Invalid option "keySpaceDefaults.ttl": is a string without a unit: write "5ms" or "5s", or the number 5 (milliseconds)',
    );
    expect(() => toMs('5 minutes', 'ttl')).toThrow(
      'must be a number of milliseconds, or a string with a unit like "250ms", "30s", "5m", "1h", "1d"',
    );
  });

  it('keeps undefined in toOptionalMs and rejects zero in toPositiveMs', () => {
    expect(toOptionalMs(undefined, 'x')).toBeUndefined();
    expect(() => toPositiveMs(0, 'readTimeout')).toThrow(/readTimeout.*greater than zero/);
    expect(toPositiveMs('1s', 'readTimeout')).toBe(1000);
  });
});

describe('toOrderedMs', () => {
  const field = (value: unknown, path: string) => ({ value, path });

  it('resolves both durations when the upper one is at least factor times the lower one', () => {
    expect(toOrderedMs(field('1s', 'a.base'), field(1_000, 'a.max'))).toEqual([1_000, 1_000]);
    expect(toOrderedMs(field(100, 'hb.interval'), field('200ms', 'hb.timeout'), 2)).toEqual([100, 200]);
  });

  it('names the upper option, the lower one and its value when the order is wrong', () => {
    const error = captured(() => toOrderedMs(field(100, 'hb.interval'), field(150, 'hb.timeout'), 2));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.message).toContain('hb.timeout');
    expect(error.message).toContain('must be at least twice hb.interval (100ms)');
    expect(captured(() => toOrderedMs(field(0, 'x.base'), field(1, 'x.max'))).message).toContain('x.base');
  });
});

function captured(run: () => unknown): DistCacheError {
  try {
    run();
  } catch (error) {
    return error as DistCacheError;
  }
  throw new Error('expected a throw');
}
