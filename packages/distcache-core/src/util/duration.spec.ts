import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import { toMs, toOptionalMs, toPositiveMs } from './duration';

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

  it('keeps undefined in toOptionalMs and rejects zero in toPositiveMs', () => {
    expect(toOptionalMs(undefined, 'x')).toBeUndefined();
    expect(() => toPositiveMs(0, 'readTimeout')).toThrow(/readTimeout.*greater than zero/);
    expect(toPositiveMs('1s', 'readTimeout')).toBe(1000);
  });
});
