import { describe, expect, it } from 'vitest';
import { itemBytes } from './bookkeeping';
import { RecentRemovals } from './recent-removals';

describe('RecentRemovals', () => {
  it('counts the bytes of the keys it remembers, and past the bytes allowed counts every key removed', () => {
    const one = itemBytes('removal', 'k-1');
    const removals = new RecentRemovals(
      () => 1_000,
      () => 3 * one,
    );
    removals.key('k-1', 0);
    removals.key('k-1', 10); // the same key again: no more memory
    removals.key('k-2', 20);
    expect(removals.bytes).toBe(2 * one);
    removals.key('k-3', 30);
    expect(removals.bytes).toBe(3 * one);
    removals.key('k-4', 40); // past 3 keys' worth: forgotten one by one, all removed now
    expect(removals.bytes).toBe(0);
    expect(removals.removedLately('never-seen', false, 50)).toBe(true);
    expect(removals.removedLately('never-seen', false, 1_041)).toBe(false);
  });

  it('remembers a removed key for at least the window, then forgets it', () => {
    const removals = new RecentRemovals(() => 1_000);
    removals.key('a', 10_000);
    expect(removals.removedLately('a', false, 10_000)).toBe(true);
    expect(removals.removedLately('a', false, 11_000)).toBe(true);
    expect(removals.removedLately('a', false, 11_001)).toBe(false);
    expect(removals.removedLately('b', false, 10_000)).toBe(false);
  });

  it('ages its generations on the purge too, so that a burst of removals is not held until the next one', () => {
    const removals = new RecentRemovals(() => 1_000);
    removals.key('a', 0);
    removals.age(500); // within the window: nothing moves
    expect(removals.removedLately('a', false, 500)).toBe(true);
    removals.age(1_000); // a new generation: 'a' is kept one more window
    expect(removals.removedLately('a', false, 1_000)).toBe(true);
    expect(removals.bytes).toBeGreaterThan(0);
    removals.age(2_000); // older than a window in the previous generation: dropped
    expect(removals.size).toBe(0);
    expect(removals.bytes).toBe(0);
    expect(removals.removedLately('a', false, 2_000)).toBe(false);
  });

  it('keeps every key of the window across generations, and drops a generation whole', () => {
    const removals = new RecentRemovals(() => 1_000);
    removals.key('a', 0); // generation from 0
    removals.key('b', 999);
    removals.key('c', 1_000); // new generation from 1,000: a and b move to the previous one
    expect(removals.removedLately('b', false, 1_999)).toBe(true);
    expect(removals.removedLately('a', false, 1_000)).toBe(true);
    expect(removals.size).toBe(3);
    removals.key('d', 2_000); // the generation of a and b is dropped: both older than 1,000
    expect(removals.size).toBe(2);
    expect(removals.removedLately('c', false, 2_000)).toBe(true);
    expect(removals.removedLately('b', false, 2_000)).toBe(false);
    // A key removed again counts from its last removal.
    removals.key('c', 2_500);
    expect(removals.removedLately('c', false, 3_400)).toBe(true);
  });

  it('past its limit counts every key as removed now, never a key as not removed', () => {
    const removals = new RecentRemovals(() => 1_000, undefined, 3);
    for (const [index, key] of ['a', 'b', 'c'].entries()) removals.key(key, 100 + index);
    expect(removals.removedLately('never-removed', false, 200)).toBe(false);
    removals.key('d', 103);
    expect(removals.size).toBe(0);
    expect(removals.removedLately('never-removed', false, 1_103)).toBe(true);
    expect(removals.removedLately('never-removed', false, 1_104)).toBe(false);
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
    // A clock that steps back does not shorten what is remembered.
    removals.all(1_500);
    expect(removals.removedLately('x', false, 3_000)).toBe(true);
  });

  it('reads its window at each call (a keyspace reconfigured with another write timeout)', () => {
    let windowMs = 1_000;
    const removals = new RecentRemovals(() => windowMs);
    removals.key('a', 0);
    expect(removals.removedLately('a', false, 1_500)).toBe(false);
    windowMs = 2_000;
    expect(removals.removedLately('a', false, 1_500)).toBe(true);
  });

  it('forgets whole generations as removals go on, keeping one to two windows of keys', () => {
    // (A single Map expired key by key cost 16-24 µs per removal at 10,000 keys, measured in review.)
    const removals = new RecentRemovals(() => 1_000, undefined, 20_000);
    let now = 0;
    for (let i = 0; i < 100_000; i++) removals.key(`key-${i}`, (now += 0.1));
    // 10 keys/ms over a 1,000 ms window: one to two windows' worth is remembered.
    expect(removals.size).toBeGreaterThanOrEqual(10_000);
    expect(removals.size).toBeLessThanOrEqual(20_000);
    expect(removals.removedLately('key-99999', false, now)).toBe(true);
    expect(removals.removedLately('key-80000', false, now)).toBe(false);
  });
});
