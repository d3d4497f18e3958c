/**
 * A table for entries that come and go all the time under keys that rarely repeat: requests in
 * flight by id, reads in flight by key. The interface is a small part of `Map`'s.
 *
 * Why not a `Map`: V8 grows and shrinks a Map by copying it into a new table, and links the old
 * table to the new one (for iterators that may still walk it). Once one of its tables has been
 * promoted to the old generation (it sat through a few collections in a quiet spell, or a full
 * collection promoted it with the rest of the young generation), its successor is referenced from
 * the old generation, and every young-generation collection keeps the chain of copies made since,
 * with every entry they held (requests, their answers, decoded values), alive until the next full
 * collection, which promotes the current table and starts a new chain. Measured on the peer
 * client's requests by id at 16 in flight: 3-5 MB survived each scavenge, pauses of 10-15 ms;
 * with this table 0.2 MB and 3 ms, and 16% more requests per second (`bench/gc/table-churn.bench.mjs`
 * shows the mechanism alone; bench/README.md, "Table churn"). An object with a null prototype is
 * a hash table (dictionary mode) in V8 as well, and rehashes without such a link. Its cost: about
 * 50 ns more than a Map per set, get and delete of a key string already used once as a property
 * name (reused keys), about 1 µs for a string seen for the first time (V8 internalizes it).
 */
export class ChurnTable<K extends string | number, V> {
  private slots: Record<K, V | undefined> = Object.create(null) as Record<K, V | undefined>;
  private count = 0;

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    return this.slots[key];
  }

  has(key: K): boolean {
    return this.slots[key] !== undefined;
  }

  /** Sets `key` to `value` (never `undefined`). */
  set(key: K, value: V): void {
    if (this.slots[key] === undefined) this.count++;
    this.slots[key] = value;
  }

  /** Removes `key`; true when it was there. */
  delete(key: K): boolean {
    if (this.slots[key] === undefined) return false;
    this.count--;
    delete this.slots[key];
    return true;
  }

  /** True when `test` holds for a value; stops at the first (no array made). */
  some(test: (value: V) => boolean): boolean {
    for (const key in this.slots) if (test(this.slots[key] as V)) return true;
    return false;
  }

  /** The values, in a new array (safe to change the table while walking it). */
  values(): V[] {
    const values: V[] = [];
    for (const key in this.slots) values.push(this.slots[key] as V);
    return values;
  }

  clear(): void {
    this.slots = Object.create(null) as Record<K, V | undefined>;
    this.count = 0;
  }
}
