/** Strings at most this long are pooled: enum-like values (currencies, statuses, colours, tags). */
export const POOLED_STRING_MAX_LENGTH = 32;
const SLOTS = 4096;

/**
 * Shares equal short strings between decoded values. V8 shares property names but makes a new
 * string for every string value it decodes, so a cache of catalogue rows holds thousands of copies
 * of `'EUR'` or `'in stock'`: ~190 B of a ~1.7 KB decoded product (bench/memory). A fixed table
 * of recently seen strings, indexed by a hash of the string: a string found in its slot is replaced
 * by the one there; otherwise it takes the slot. Repeated strings settle in the table; unique ones
 * (ids, names) only pass through. Strings are immutable, so sharing one is invisible to callers.
 * One table per process: at most 4,096 slots (32 KiB) and the short strings they hold.
 */
export class StringPool {
  private readonly slots: Array<string | undefined> = new Array<string | undefined>(SLOTS).fill(undefined);

  /** The pooled string equal to `text` when there is one (shared: not charged again), else undefined. */
  share(text: string): string | undefined {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    const slot = (hash >>> 0) & (SLOTS - 1);
    const held = this.slots[slot];
    if (held === text) return held;
    this.slots[slot] = text;
    return undefined;
  }
}

/** The process-wide pool of decoded values' short strings. */
export const sharedStrings = new StringPool();
