import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import { fromValueResult } from './wire-entry';

const value = new Uint8Array([1, 2, 3]);

describe('fromValueResult', () => {
  it('holds the tags of a peer answer to the limits of local tags: deduplicated and frozen', () => {
    const entry = fromValueResult({ found: true, value, expiresAt: 0, tags: ['sale', 'sale', 'new'] });
    expect(entry.tags).toEqual(['sale', 'new']);
    expect(Object.isFrozen(entry.tags)).toBe(true);
  });

  it('refuses an answer carrying more tags than an entry may have (E_PROTOCOL)', () => {
    const tags = Array.from({ length: 65 }, (_, index) => `t${index}`);
    let error: unknown;
    try {
      fromValueResult({ found: true, value, expiresAt: 0, tags });
    } catch (caught) {
      error = caught;
    }
    expect(isDistCacheError(error, 'E_PROTOCOL')).toBe(true);
  });
});
