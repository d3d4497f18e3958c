import { describe, expect, it } from 'vitest';
import { RecentRemovals } from './recent-removals';

describe('RecentRemovals', () => {
  it('remembers a removed key for the window and forgets it after', () => {
    const removals = new RecentRemovals(() => 1_000);
    removals.key('a', 10_000);
    expect(removals.removedLately('a', false, 10_000)).toBe(true);
    expect(removals.removedLately('a', false, 11_000)).toBe(true);
    expect(removals.removedLately('a', false, 11_001)).toBe(false);
    expect(removals.removedLately('b', false, 10_000)).toBe(false);
  });

  it('drops expired keys as new ones are removed, and a key removed again counts from the last time', () => {
    const removals = new RecentRemovals(() => 1_000);
    removals.key('a', 0);
    removals.key('b', 500);
    removals.key('a', 900);
    removals.key('c', 1_600); // b (500) is past the window; a was moved to 900
    expect(removals.size).toBe(2);
    expect(removals.removedLately('a', false, 1_900)).toBe(true);
    expect(removals.removedLately('b', false, 1_400)).toBe(false);
  });

  it('past its limit forgets the oldest keys and counts every key as removed when they were', () => {
    const removals = new RecentRemovals(() => 1_000, 3);
    for (const [index, key] of ['a', 'b', 'c', 'd', 'e'].entries()) removals.key(key, 100 + index);
    expect(removals.size).toBe(3);
    // a (100) and b (101) were forgotten: any key counts as removed at 101, never as not removed.
    expect(removals.removedLately('never-removed', false, 1_101)).toBe(true);
    expect(removals.removedLately('never-removed', false, 1_102)).toBe(false);
    expect(removals.removedLately('e', false, 1_104)).toBe(true);
  });

  it('a clear counts every key, a tag revocation every tagged value', () => {
    const removals = new RecentRemovals(() => 1_000);
    removals.tags(0);
    expect(removals.removedLately('x', true, 500)).toBe(true);
    expect(removals.removedLately('x', false, 500)).toBe(false);
    expect(removals.removedLately('x', true, 1_001)).toBe(false);
    removals.key('y', 2_000);
    removals.all(2_000);
    expect(removals.size).toBe(0);
    expect(removals.removedLately('x', false, 2_500)).toBe(true);
    expect(removals.removedLately('x', false, 3_001)).toBe(false);
  });

  it('reads its window at each call (a keyspace reconfigured with another write timeout)', () => {
    let windowMs = 1_000;
    const removals = new RecentRemovals(() => windowMs);
    removals.key('a', 0);
    expect(removals.removedLately('a', false, 1_500)).toBe(false);
    windowMs = 2_000;
    expect(removals.removedLately('a', false, 1_500)).toBe(true);
  });
});
