import { estimateHeapBytes } from '../codec/heap-size';

/**
 * What a keyspace keeps besides its entries, charged against its `maxBytes` (the budget is the
 * memory the keyspace holds, bookkeeping included): its keys removed lately (`removals`, the
 * hand-off guard), its tag invalidations (`tags`), the invalidations of it that listed peers
 * missed (`missed`, kept by the cluster until they are delivered) and its keys written lately on
 * this node (`writes`, told to a peer that joins). A node killed while listed, and writes of long
 * keys going on, made the missed invalidations alone hold 11x `maxBytes` (90,000 keys of 900
 * characters: +88.7 MiB of heap for an 8 MiB keyspace, 2026-12-06) where `stats().bytes` said 6.
 */
export type BookkeepingPart = 'removals' | 'tags' | 'missed' | 'writes';

/**
 * Most of the keyspace's own entries' budget (`maxBytes` less the hot copies' share) one part of
 * the bookkeeping may hold; past it, the part falls back to what it does at its count limit
 * (every key counts as removed lately; the oldest tag records go; the peer clears the keyspace
 * instead of single keys; a joining peer clears it instead of the keys written lately). All four
 * at their limit leave the entries half of their budget; hot copies keep theirs.
 */
export const BOOKKEEPING_SHARE = 1 / 8;

/**
 * Heap per item, its key or tag string apart (counted as the heap-size walk counts strings).
 * Measured on Node 20 x64, 50,000 items of 16, 64 and 900 characters, heap growth after full
 * collections: a `Map` entry with a timestamp 53-55 B (a key removed or written lately), a `Set`
 * entry 26-27 B (a missed invalidation), a tag record (`Map` entry and record) 93-96 B. A `Map`
 * holds up to ~2x that right after its table doubled.
 */
export const ITEM_BYTES = {
  removal: 56,
  missed: 32,
  tag: 96,
} as const;

/** What one item of `kind` holding `text` (a key or a tag) costs. */
export function itemBytes(kind: keyof typeof ITEM_BYTES, text: string): number {
  return ITEM_BYTES[kind] + estimateHeapBytes(text);
}

/** The bytes a part may hold in a keyspace whose own entries have `entryBudget` bytes. */
export function bookkeepingLimit(entryBudget: number): number {
  return Math.floor(entryBudget * BOOKKEEPING_SHARE);
}

/**
 * How the cluster layer charges what it keeps for a keyspace, by name (a keyspace deleted
 * meanwhile allows nothing: what is kept for it becomes a clear of it).
 */
export interface BookkeepingLedger {
  /** Most bytes one part may hold for `keySpace` ({@link bookkeepingLimit}). */
  limit(keySpace: string): number;
  /** What `part` holds for `keySpace` now. */
  charge(keySpace: string, part: BookkeepingPart, bytes: number): void;
}

/** A ledger that charges nothing and limits nothing (tests, a coordinator on its own). */
export const NO_LEDGER: BookkeepingLedger = {
  limit: () => Number.POSITIVE_INFINITY,
  charge: () => undefined,
};
