import { describe, expect, it } from 'vitest';
import { DistCacheError, isDistCacheError } from './distcache-error';
import { ERROR_CODES } from './error-codes';
import { dataSourceFailed } from './messages';

describe('DistCacheError', () => {
  it('carries a stable code, a cause and frozen details', () => {
    const cause = new Error('connection refused');
    const error = dataSourceFailed('products', '42', cause);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DistCacheError');
    expect(error.code).toBe('E_DATASOURCE_FAILED');
    expect(error.cause).toBe(cause);
    expect(error.message).toContain('connection refused');
    expect(error.details).toEqual({ keySpace: 'products', key: '42' });
    expect(Object.isFrozen(error.details)).toBe(true);
  });

  it('is recognised by the guard, with or without a code, across copies of the class', () => {
    const error = new DistCacheError('E_TIMEOUT', 'slow');
    expect(isDistCacheError(error)).toBe(true);
    expect(isDistCacheError(error, 'E_TIMEOUT')).toBe(true);
    expect(isDistCacheError(error, 'E_ABORTED')).toBe(false);
    expect(isDistCacheError(new Error('plain'))).toBe(false);
    expect(isDistCacheError('E_TIMEOUT')).toBe(false);
    expect(isDistCacheError(null)).toBe(false);
    // A second install of the package has its own class but the same global brand.
    const foreign = Object.assign(new Error('x'), { code: 'E_TIMEOUT' });
    Object.defineProperty(foreign, Symbol.for('distcache.error'), { value: true });
    expect(isDistCacheError(foreign, 'E_TIMEOUT')).toBe(true);
  });

  it('lists every code under its own name', () => {
    for (const [name, value] of Object.entries(ERROR_CODES)) expect(name).toBe(value);
  });
});
