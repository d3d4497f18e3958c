import { describe, expect, it } from 'vitest';
import { itemBytes } from '../keyspace/bookkeeping';
import { MissedInvalidations } from './missed-invalidations';

/** A ledger that records the last charge per keyspace and allows `limit` bytes to each. */
function ledger(limit: number) {
  const charged = new Map<string, number>();
  const books = {
    charged,
    allowed: limit,
    limit: () => books.allowed,
    charge: (keySpace: string, _part: string, bytes: number) => charged.set(keySpace, bytes),
  };
  return books;
}

describe('MissedInvalidations', () => {
  it('charges each keyspace what all peers are owed for it, and clears it on the peer past the bytes it allows', () => {
    const key = (i: number) => `product-${i}-${'x'.repeat(100)}`;
    const one = itemBytes('missed', key(0));
    const books = ledger(10 * one);
    const missed = new MissedInvalidations(100_000, books);
    missed.record('b', 'products', [key(1), key(2), key(3)]);
    missed.record('c', 'products', [key(1), key(4)]);
    missed.recordTags('c', 'users', ['vip']);
    expect(books.charged.get('products')).toBe(5 * one);
    expect(books.charged.get('users')).toBe(itemBytes('missed', 'vip'));
    // Delivered to c (taken): its share is released; put back when delivery failed.
    const taken = missed.take('c')!;
    expect(books.charged.get('products')).toBe(3 * one);
    expect(books.charged.get('users')).toBe(0);
    missed.restore('c', taken);
    expect(books.charged.get('products')).toBe(5 * one);
    // Past 10 keys' worth for the keyspace: the peer owed most (b: 9 keys) clears it instead, and
    // what it was owed of it is released; the other peer keeps its list.
    missed.record('b', 'products', [5, 6, 7, 8, 9, 10].map(key));
    expect(missed.bytesOwed('products')).toBe(2 * one);
    expect(books.charged.get('products')).toBe(2 * one);
    expect([...missed.take('b')!.cleared]).toEqual(['products']);
    expect([...missed.take('c')!.keys.get('products')!]).toEqual([key(1), key(4)]);
    expect(books.charged.get('products')).toBe(0);
    // A peer owed little is not the one cleared when another owes most: c misses one more key
    // past the limit, and d (owed 9) clears the keyspace.
    missed.record('d', 'products', [11, 12, 13, 14, 15, 16, 17, 18, 19].map(key));
    missed.record('c', 'products', [key(20), key(21)]);
    expect(missed.take('d')!.cleared.has('products')).toBe(true);
    expect([...missed.take('c')!.keys.get('products')!]).toEqual([key(20), key(21)]);
    // A smaller budget: enforced at once, the peers owed most first.
    missed.record('b', 'products', [1, 2, 3].map(key));
    missed.record('c', 'products', [4].map(key));
    books.allowed = 2 * one;
    missed.enforce('products');
    expect(books.charged.get('products')).toBe(one);
    expect(missed.take('b')!.cleared.has('products')).toBe(true);
    expect(missed.take('c')!.keys.get('products')!.size).toBe(1);
    // The keyspace removed here (it allows nothing): every peer's list becomes a clear of it.
    missed.record('c', 'products', [key(7)]);
    books.allowed = 0;
    missed.enforce('products');
    expect(books.charged.get('products')).toBe(0);
    expect(missed.take('c')!.cleared.has('products')).toBe(true);
    books.allowed = 10 * one;
    // A peer no longer listed: forgotten, and so is its charge.
    missed.record('d', 'products', [key(1)]);
    missed.forget('d');
    expect(books.charged.get('products')).toBe(0);
  });

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
