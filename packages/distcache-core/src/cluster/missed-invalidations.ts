import { type BookkeepingLedger, itemBytes, NO_LEDGER } from '../keyspace/bookkeeping';

/**
 * Keys per INVALIDATE frame when keys are sent in bulk (a peer's missed invalidations, a join
 * replay): a busy writer's list stays far under the frame limit.
 */
export const INVALIDATION_BATCH = 512;

/**
 * What one peer missed: keys and tags (`deleteByTags`) per keyspace, and keyspaces whose list
 * overflowed (clear them whole).
 */
export interface Missed {
  readonly keys: Map<string, Set<string>>;
  readonly tags: Map<string, Set<string>>;
  readonly cleared: Set<string>;
}

interface Debt extends Missed {
  size: number;
  /** Heap of its keys and tags, by keyspace. */
  readonly bytes: Map<string, number>;
}

/**
 * The invalidations each candidate peer did not acknowledge: it was unreachable, not on the ring
 * yet (listed by discovery but not answering), or answered too late. They are delivered before the
 * peer is routed to again, and whenever it is heard from, instead of making anyone drop everything
 * when contact resumes (docs/protocol.md, "Membership"). Bounded per peer: past `limitPerPeer` keys,
 * or when what all peers are owed for a keyspace passes the bytes its budget allows this part of
 * its bookkeeping (charged to it: `keyspace/bookkeeping.ts`), the keyspace being recorded is marked
 * to be cleared whole on that peer (its hot copies and entries of that keyspace), never the peer's
 * whole cache.
 */
export class MissedInvalidations {
  private readonly debts = new Map<string, Debt>();
  /** Heap of what all peers are owed, by keyspace. */
  private readonly owed = new Map<string, number>();

  constructor(
    private readonly limitPerPeer: number,
    private readonly ledger: BookkeepingLedger = NO_LEDGER,
  ) {}

  record(peerId: string, keySpace: string, keys: readonly string[]): void {
    this.add(peerId, keySpace, keys, 'keys');
  }

  /** The peer missed a tag invalidation; tags count against the same limit as keys. */
  recordTags(peerId: string, keySpace: string, tags: readonly string[]): void {
    this.add(peerId, keySpace, tags, 'tags');
  }

  private add(peerId: string, keySpace: string, items: readonly string[], kind: 'keys' | 'tags'): void {
    let debt = this.debts.get(peerId);
    if (debt === undefined) {
      debt = { keys: new Map(), tags: new Map(), cleared: new Set(), size: 0, bytes: new Map() };
      this.debts.set(peerId, debt);
    }
    if (debt.cleared.has(keySpace)) return;
    const table = debt[kind];
    let set = table.get(keySpace);
    if (set === undefined) {
      set = new Set();
      table.set(keySpace, set);
    }
    let bytes = 0;
    for (const item of items) {
      if (set.has(item)) continue;
      set.add(item);
      debt.size += 1;
      bytes += itemBytes('missed', item);
    }
    if (bytes > 0) {
      debt.bytes.set(keySpace, (debt.bytes.get(keySpace) ?? 0) + bytes);
      this.owed.set(keySpace, (this.owed.get(keySpace) ?? 0) + bytes);
    }
    if (debt.size > this.limitPerPeer) this.overflow(debt, keySpace);
    else if (bytes > 0) this.enforce(keySpace);
  }

  /**
   * Keeps what all peers are owed for `keySpace` within the bytes its budget allows (also when
   * that budget shrank, or the keyspace was added again under its name): the peers owed most
   * clear the keyspace instead, one after another, until the rest fits. Charges the keyspace.
   */
  enforce(keySpace: string): void {
    const limit = this.ledger.limit(keySpace);
    while ((this.owed.get(keySpace) ?? 0) > limit) {
      let largest: Debt | undefined;
      for (const debt of this.debts.values())
        if ((debt.bytes.get(keySpace) ?? 0) > (largest?.bytes.get(keySpace) ?? 0)) largest = debt;
      if (largest === undefined) break;
      this.overflow(largest, keySpace);
    }
    this.charge(keySpace);
  }

  /** Replaces what a keyspace owes by a clear of the whole keyspace. */
  private overflow(debt: Debt, keySpace: string): void {
    for (const table of [debt.keys, debt.tags]) {
      const set = table.get(keySpace);
      if (set === undefined) continue;
      debt.size -= set.size;
      table.delete(keySpace);
    }
    debt.cleared.add(keySpace);
    this.release(debt, keySpace);
  }

  /** Forgets the bytes `debt` held for `keySpace`. */
  private release(debt: Debt, keySpace: string): void {
    const bytes = debt.bytes.get(keySpace);
    if (bytes === undefined) return;
    debt.bytes.delete(keySpace);
    const left = (this.owed.get(keySpace) ?? 0) - bytes;
    if (left > 0) this.owed.set(keySpace, left);
    else this.owed.delete(keySpace);
    this.charge(keySpace);
  }

  private charge(keySpace: string): void {
    this.ledger.charge(keySpace, 'missed', this.owed.get(keySpace) ?? 0);
  }

  /** Heap of what all peers are owed for `keySpace` (for tests). */
  bytesOwed(keySpace: string): number {
    return this.owed.get(keySpace) ?? 0;
  }

  /** True when `peerId` owes nothing. */
  isClear(peerId: string): boolean {
    return !this.debts.has(peerId);
  }

  /** Keys owed to `peerId` (for stats and tests). */
  size(peerId: string): number {
    const debt = this.debts.get(peerId);
    return debt === undefined ? 0 : debt.size + debt.cleared.size;
  }

  /** Hands over what `peerId` missed, forgetting it here; give it back with {@link restore} on failure. */
  take(peerId: string): Missed | undefined {
    const debt = this.debts.get(peerId);
    this.forget(peerId);
    return debt;
  }

  /** Puts back what could not be delivered, merged with what was recorded meanwhile. */
  restore(peerId: string, missed: Missed): void {
    for (const keySpace of missed.cleared) this.markCleared(peerId, keySpace);
    for (const [keySpace, keys] of missed.keys) this.record(peerId, keySpace, [...keys]);
    for (const [keySpace, tags] of missed.tags) this.recordTags(peerId, keySpace, [...tags]);
  }

  /** The peer is no longer a candidate: nothing will be delivered to it. */
  forget(peerId: string): void {
    const debt = this.debts.get(peerId);
    if (debt === undefined) return;
    this.debts.delete(peerId);
    for (const keySpace of [...debt.bytes.keys()]) this.release(debt, keySpace);
  }

  /** The peer missed a clear of the whole keyspace. */
  recordCleared(peerId: string, keySpace: string): void {
    this.markCleared(peerId, keySpace);
  }

  private markCleared(peerId: string, keySpace: string): void {
    this.record(peerId, keySpace, []);
    this.overflow(this.debts.get(peerId) as Debt, keySpace);
  }
}
