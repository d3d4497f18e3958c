import { describe, expect, it } from 'vitest';
import { MissedInvalidations } from './missed-invalidations';

describe('MissedInvalidations', () => {
  it('keeps missed tag invalidations beside keys, within the same limit, and restores them', () => {
    const missed = new MissedInvalidations(4);
    missed.recordTags('b', 'products', ['shoes', 'shoes', 'hats']);
    missed.record('b', 'products', ['1']);
    expect(missed.size('b')).toBe(3);
    const taken = missed.take('b')!;
    expect([...taken.tags.get('products')!]).toEqual(['shoes', 'hats']);
    missed.restore('b', taken);
    expect(missed.size('b')).toBe(3);
    // Over the limit: the keyspace is cleared whole on that peer, its keys and tags forgotten.
    missed.recordTags('b', 'products', ['socks', 'belts']);
    const overflowed = missed.take('b')!;
    expect([...overflowed.cleared]).toEqual(['products']);
    expect(overflowed.tags.size + overflowed.keys.size).toBe(0);
  });

  it('keeps keys per peer and keyspace, once each, and hands them over once', () => {
    const missed = new MissedInvalidations(100);
    missed.record('b', 'products', ['1', '2']);
    missed.record('b', 'products', ['2', '3']);
    missed.record('b', 'users', ['u']);
    missed.record('c', 'products', ['9']);
    expect(missed.size('b')).toBe(4);
    expect(missed.isClear('a')).toBe(true);
    const taken = missed.take('b')!;
    expect([...taken.keys.get('products')!]).toEqual(['1', '2', '3']);
    expect([...taken.keys.get('users')!]).toEqual(['u']);
    expect(missed.isClear('b')).toBe(true);
    expect(missed.size('c')).toBe(1);
  });

  it('past its limit marks the keyspace to be cleared on that peer, never more', () => {
    const missed = new MissedInvalidations(3);
    missed.record('b', 'users', ['u']);
    missed.record('b', 'products', ['1', '2', '3']);
    const taken = missed.take('b')!;
    expect([...taken.cleared]).toEqual(['products']);
    expect([...taken.keys.keys()]).toEqual(['users']);
    // Further keys of a keyspace to be cleared add nothing.
    missed.restore('b', taken);
    missed.record('b', 'products', ['4']);
    expect(missed.size('b')).toBe(2);
  });

  it('restores what could not be delivered, merged with what came meanwhile', () => {
    const missed = new MissedInvalidations(100);
    missed.record('b', 'products', ['1']);
    const taken = missed.take('b')!;
    missed.record('b', 'products', ['2']);
    missed.restore('b', taken);
    expect([...missed.take('b')!.keys.get('products')!].sort()).toEqual(['1', '2']);
    missed.record('b', 'products', ['1']);
    missed.forget('b');
    expect(missed.isClear('b')).toBe(true);
  });
});
