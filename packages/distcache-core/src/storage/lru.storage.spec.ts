import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock';
import { LruStorage } from './lru.storage';
import type { RemovalReason } from './storage';

const entry = (expiresAt = Infinity) => ({ expiresAt });

function setup(maxBytes = 100) {
  const clock = new ManualClock();
  const removed: Array<[string, RemovalReason]> = [];
  const storage = new LruStorage<{ expiresAt: number }>({
    maxBytes,
    clock,
    onRemove: (key, reason) => removed.push([key, reason]),
  });
  return { clock, storage, removed };
}

describe('LruStorage', () => {
  it('keeps the sum of entry sizes within maxBytes, evicting least recently used first', () => {
    const { storage, removed } = setup(100);
    storage.set('a', entry(), 40);
    storage.set('b', entry(), 40);
    storage.get('a'); // a is now more recent than b
    storage.set('c', entry(), 40);
    expect(storage.bytes).toBe(80);
    expect(storage.get('b')).toBeUndefined();
    expect(storage.get('a')).toBeDefined();
    expect(removed).toEqual([['b', 'evicted']]);
  });

  it('keeps a reservation out of the budget: evicts least recently used entries to fit it, now and on later sets', () => {
    const { storage, removed } = setup(100);
    storage.set('a', entry(), 30);
    storage.set('b', entry(), 30);
    storage.set('c', entry(), 30);
    storage.get('a');
    // 90 B of entries and 30 reserved: 'b' (least recently used) goes.
    storage.reserve(30);
    expect(storage.reserved).toBe(30);
    expect(storage.bytes).toBe(60);
    expect([...storage.keys()]).toEqual(['a', 'c']);
    expect(removed).toEqual([['b', 'evicted']]);
    // A set must fit in what the reservation leaves.
    storage.set('d', entry(), 30);
    expect(storage.bytes).toBe(60);
    expect([...storage.keys()]).toEqual(['d', 'a']);
    // Released: room again, nothing evicted for it.
    storage.reserve(0);
    storage.set('e', entry(), 30);
    expect(storage.bytes).toBe(90);
    expect(removed.map(([key]) => key)).toEqual(['b', 'c']);
    // A reservation of the whole budget leaves no entry; a resize keeps to it.
    storage.reserve(100);
    expect(storage.items).toBe(0);
    storage.reserve(50);
    storage.set('f', entry(), 40);
    storage.resize(80);
    expect(storage.bytes).toBe(0);
  });

  it('keeps no entry larger than what the reservation leaves, and evicts nothing for it', () => {
    const { storage, removed } = setup(100);
    storage.set('a', entry(), 20);
    storage.set('b', entry(), 20);
    storage.reserve(40);
    storage.set('big', entry(), 70);
    expect([...storage.keys()]).toEqual(['b', 'a']);
    // A key it replaces is dropped: its old value is not served for the new one.
    storage.set('a', entry(), 70);
    expect([...storage.keys()]).toEqual(['b']);
    expect(removed).toEqual([['a', 'evicted']]);
  });

  it('charges an entry again under a new size, evicting least recently used ones, unreported', () => {
    const { storage, removed } = setup(100);
    const a = entry();
    storage.set('a', a, 30);
    storage.set('b', entry(), 30);
    storage.set('c', entry(), 30);
    storage.recharge('a', a, 50); // 'a' becomes the most recent; 'b' must go to make room
    expect(storage.bytes).toBe(80);
    expect([...storage.keys()]).toEqual(['a', 'c']);
    expect(removed).toEqual([['b', 'evicted']]);
    storage.recharge('c', entry(), 90); // another entry under that key: nothing changes
    expect(storage.bytes).toBe(80);
    const moved = entry();
    storage.recharge('a', a, 40, moved); // the same, held by a new object
    expect(storage.peek('a')).toBe(moved);
    expect(storage.bytes).toBe(70);
    expect(removed).toEqual([['b', 'evicted']]);
  });

  it('never returns an expired entry and counts it as expired', async () => {
    const { storage, clock, removed } = setup();
    storage.set('k', entry(clock.now() + 1_000), 10);
    await clock.advance(999);
    expect(storage.get('k')).toBeDefined();
    await clock.advance(1);
    expect(storage.peek('k')).toBeUndefined();
    expect(storage.items).toBe(0);
    expect(removed).toEqual([['k', 'expired']]);
  });

  it('purges every expired entry at once', async () => {
    const { storage, clock } = setup();
    storage.set('short', entry(clock.now() + 10), 1);
    storage.set('long', entry(clock.now() + 10_000), 1);
    storage.set('forever', entry(), 1);
    await clock.advance(10);
    expect(storage.purgeExpired()).toBe(1);
    expect([...storage.keys()].sort()).toEqual(['forever', 'long']);
  });

  it('does not count replacements or deletes as evictions', () => {
    const { storage, removed } = setup();
    storage.set('k', entry(), 10);
    storage.set('k', entry(), 20);
    expect(storage.bytes).toBe(20);
    expect(storage.delete('k')).toBe(true);
    expect(storage.delete('k')).toBe(false);
    expect(removed).toEqual([['k', 'deleted']]);
  });

  it('shrinks by evicting the least recently used and keeps the most recent', () => {
    const { storage } = setup(100);
    for (const key of ['a', 'b', 'c', 'd']) storage.set(key, entry(), 25);
    storage.get('a');
    storage.resize(50);
    expect(storage.maxBytes).toBe(50);
    expect(storage.bytes).toBe(50);
    expect([...storage.keys()]).toEqual(['a', 'd']);
  });

  it('clears everything', () => {
    const { storage } = setup();
    storage.set('a', entry(), 1);
    storage.clear();
    expect(storage.items).toBe(0);
    expect(storage.bytes).toBe(0);
  });
});
