import { describe, expect, it } from 'vitest';
import { PopularKeys } from './popular-keys';

describe('PopularKeys', () => {
  it('ranks keys by recent reads', () => {
    const tracker = new PopularKeys({ halfLifeMs: 1_000 });
    for (let index = 0; index < 10; index += 1) tracker.record('a', 0);
    for (let index = 0; index < 5; index += 1) tracker.record('b', 0);
    tracker.record('c', 0);
    expect(tracker.top(2, 0).map(([key]) => key)).toEqual(['a', 'b']);
    expect(tracker.top(3, 0)[0]![1]).toBe(10);
  });

  it('halves scores every half-life, so a burst long ago loses to steady recent reads', () => {
    const tracker = new PopularKeys({ halfLifeMs: 1_000 });
    for (let index = 0; index < 16; index += 1) tracker.record('old', 0);
    expect(tracker.top(1, 1_000)[0]![1]).toBeCloseTo(8, 6);
    expect(tracker.top(1, 4_000)[0]![1]).toBeCloseTo(1, 6);
    for (let index = 0; index < 3; index += 1) tracker.record('recent', 4_000);
    expect(tracker.top(2, 4_000).map(([key]) => key)).toEqual(['recent', 'old']);
  });

  it('keeps memory bounded, dropping the least popular keys', () => {
    const tracker = new PopularKeys({ capacity: 100 });
    for (let round = 0; round < 5; round += 1) tracker.record('popular', 0);
    for (let index = 0; index < 10_000; index += 1) tracker.record(`cold-${index}`, 0);
    expect(tracker.size).toBeLessThanOrEqual(200);
    expect(tracker.top(1, 0)[0]![0]).toBe('popular');
  });

  it('lets sampled hits add keys only while there is room; misses add one key in 8 once full', () => {
    const tracker = new PopularKeys({ capacity: 2, hitSampling: 1 });
    tracker.hit('a', () => 0);
    tracker.hit('b', () => 0);
    tracker.hit('c', () => 0);
    expect(
      tracker
        .top(5, 0)
        .map(([key]) => key)
        .sort(),
    ).toEqual(['a', 'b']);
    tracker.hit('a', () => 0);
    for (let index = 0; index < 7; index += 1) tracker.record('c', 0);
    expect(tracker.top(5, 0).map(([key]) => key)).toEqual(['a', 'b']);
    tracker.record('c', 0);
    expect(tracker.top(5, 0).map(([key]) => key)).toEqual(['a', 'b', 'c']);
  });

  it('compacts to exactly capacity keys, keeping the best scores, also when scores tie', () => {
    const tracker = new PopularKeys({ capacity: 4 });
    for (let index = 0; index < 3; index += 1) tracker.record('top', 0);
    for (let index = 0; index < 100; index += 1) tracker.record(`tie-${index}`, 0);
    expect(tracker.size).toBeLessThanOrEqual(8);
    expect(tracker.size).toBeGreaterThanOrEqual(4);
    expect(tracker.top(1, 0)).toEqual([['top', 3]]);
    // Equal scores everywhere: compaction still gets back to capacity instead of running on every insert.
    // 4 keys fill it, then every 8th new key is admitted: the 44th record admits the 9th key.
    const flat = new PopularKeys({ capacity: 4 });
    for (let index = 0; index < 43; index += 1) flat.record(`k-${index}`, 0);
    expect(flat.size).toBe(8);
    flat.record('k-43', 0);
    expect(flat.size).toBe(4);
  });

  it('samples hits: one in hitSampling is recorded, with that weight', () => {
    const tracker = new PopularKeys({ hitSampling: 4 });
    for (let index = 0; index < 8; index += 1) tracker.hit('k', () => 0);
    expect(tracker.top(1, 0)).toEqual([['k', 8]]);
  });
});
