import { describe, expect, it } from 'vitest';
import { itemBytes } from './bookkeeping';
import { MAX_TAG_CHARS, MAX_TAGS_PER_ENTRY, normalizeTags, stampBytes, TagVersions } from './tag-versions';

describe('TagVersions', () => {
  it('revokes an entry stored before one of its tags was invalidated, not one stored after', () => {
    const versions = new TagVersions();
    const before = versions.stamp(['a', 'b'], 1_000);
    const other = versions.stamp(['c'], 1_000);
    versions.invalidate(['b'], 0);
    const after = versions.stamp(['b'], 1_000);
    expect(versions.revoked(before)).toBe(true);
    expect(versions.revoked(other)).toBe(false);
    expect(versions.revoked(after)).toBe(false);
  });

  it('forgets a record once every tagged entry that existed when it was made has expired', () => {
    const versions = new TagVersions();
    versions.stamp(['a'], 1_000);
    versions.invalidate(['a'], 0);
    versions.stamp(['a'], 5_000);
    versions.invalidate(['b'], 0);
    expect(versions.size).toBe(2);
    versions.prune(1_000);
    expect(versions.size).toBe(1);
    versions.prune(5_000);
    expect(versions.size).toBe(0);
  });

  it('past maxRecords forgets the oldest record and revokes every tagged entry older than it', () => {
    const versions = new TagVersions(2);
    const old = versions.stamp(['x'], Infinity);
    versions.invalidate(['a'], 0);
    const middle = versions.stamp(['y'], Infinity);
    versions.invalidate(['b'], 0);
    versions.invalidate(['c'], 0);
    expect(versions.size).toBe(2);
    // 'x' was never invalidated, but the forgotten record of 'a' might have covered it.
    expect(versions.revoked(old)).toBe(true);
    expect(versions.revoked(middle)).toBe(false);
  });

  it('an invalidation of a tag invalidated before moves it to the end (pruned by its new time)', () => {
    const versions = new TagVersions();
    versions.stamp(['a'], 100);
    versions.invalidate(['a'], 0);
    const tagged = versions.stamp(['a'], 10_000);
    versions.invalidate(['a'], 0);
    versions.prune(100);
    expect(versions.revoked(tagged)).toBe(true);
  });

  it('counts the bytes of its records, and past the bytes allowed forgets the oldest', () => {
    const one = itemBytes('tag', 'tag-1');
    const versions = new TagVersions(1_000, 2 * one);
    const old = versions.stamp(['tag-1'], Infinity);
    versions.invalidate(['tag-1'], 0);
    versions.invalidate(['tag-1'], 0); // again: one record
    expect(versions.bytes).toBe(one);
    versions.invalidate(['tag-2', 'tag-3'], 0);
    expect(versions.size).toBe(2);
    expect(versions.bytes).toBe(2 * one);
    // tag-1's record went; what it revoked stays revoked (below the floor).
    expect(versions.revoked(old)).toBe(true);
    versions.clear();
    expect(versions.bytes).toBe(0);
  });

  it('counts a stamp in memory: its object and its tags', () => {
    expect(stampBytes(undefined)).toBe(0);
    expect(stampBytes({ tags: ['category:1'], born: 1 })).toBeGreaterThan(56 + 16);
  });
});

describe('normalizeTags', () => {
  it('removes duplicates and treats an empty list as none', () => {
    expect(normalizeTags(['a', 'b', 'a'])).toEqual(['a', 'b']);
    expect(normalizeTags([])).toBeUndefined();
    expect(normalizeTags(undefined)).toBeUndefined();
  });

  it('says why tags are refused', () => {
    expect(normalizeTags('a')).toMatch(/array/);
    expect(normalizeTags([''])).toMatch(/non-empty/);
    expect(normalizeTags([1])).toMatch(/non-empty string/);
    expect(normalizeTags(['x'.repeat(MAX_TAG_CHARS + 1)])).toMatch(/longer/);
    expect(normalizeTags(['ok', 'a\uD800'])).toMatch(/well-formed/);
    expect(normalizeTags(Array.from({ length: MAX_TAGS_PER_ENTRY + 1 }, (_, i) => `t${i}`))).toMatch(
      /more than/,
    );
  });
});
