import { describe, expect, it } from 'vitest';
import { itemBytes } from '../keyspace/bookkeeping';
import { ManualClock } from '../testing/manual-clock';
import type { PeerRequest } from '../transport/transport';
import { ClusterWrites } from './cluster-writes';
import type { ClusterCoordinator, PeerRef } from './coordinator';

/** ClusterWrites with a coordinator that records what it is asked to send, and a ledger. */
function setup(initialLimit: number) {
  let limit = initialLimit;
  const clock = new ManualClock();
  const sent: PeerRequest[] = [];
  const coordinator = {
    send: (_peer: PeerRef, request: PeerRequest) => {
      sent.push(request);
      return Promise.resolve({ op: 'ok' });
    },
  } as unknown as ClusterCoordinator;
  const charged = new Map<string, number>();
  const writes = new ClusterWrites(coordinator, 1_000, clock, 3_000, {
    limit: () => limit,
    charge: (keySpace, _part, bytes) => charged.set(keySpace, bytes),
  });
  // The keys a write lists (what `invalidateEverywhere` does after a write).
  const remember = (keySpace: string, keys: string[]) =>
    (writes as unknown as { remember(k: string, keys: string[], at: number): void }).remember(
      keySpace,
      keys,
      clock.now(),
    );
  const peer = { id: 'p', host: '127.0.0.1', port: 1 } as unknown as PeerRef;
  const setLimit = (bytes: number) => (limit = bytes);
  return { clock, sent, charged, writes, remember, peer, setLimit };
}

describe('ClusterWrites, keys written lately', () => {
  it('lists each key once for a joining peer within the window, charged to its keyspace, and forgets it after', async () => {
    const { clock, sent, charged, writes, remember, peer } = setup(Number.POSITIVE_INFINITY);
    remember('products', ['a', 'b']);
    // One key rewritten many times is listed, and charged, once.
    for (let i = 0; i < 1_000; i++) remember('products', ['a']);
    remember('users', ['u']);
    expect(charged.get('products')).toBe(itemBytes('removal', 'a') + itemBytes('removal', 'b'));
    writes.replayTo(peer);
    expect(sent).toEqual([
      { op: 'invalidate', keySpace: 'products', keys: ['a', 'b'] },
      { op: 'invalidate', keySpace: 'users', keys: ['u'] },
    ]);
    // Two windows later with no write since: forgotten by the purge, and uncharged.
    await clock.advance(3_000);
    writes.forgetOld();
    await clock.advance(3_000);
    writes.forgetOld();
    expect(charged.get('products')).toBe(0);
    expect(charged.get('users')).toBe(0);
    sent.length = 0;
    writes.replayTo(peer);
    expect(sent).toEqual([]);
  });

  it('past the bytes its keyspace allows, drops its list: a joining peer clears the keyspace until the window passes', async () => {
    const one = itemBytes('removal', 'k-0');
    const { clock, sent, charged, writes, remember, peer } = setup(3 * one);
    remember('products', ['k-0', 'k-1']);
    remember('products', ['k-2', 'k-3', 'k-4']);
    remember('users', ['u']);
    // Past three keys' worth: the list went (nothing held, nothing charged); k-4 is listed again.
    expect(charged.get('products')).toBe(one);
    writes.replayTo(peer);
    expect(sent).toEqual([
      { op: 'clearKeySpace', keySpace: 'products' },
      { op: 'invalidate', keySpace: 'users', keys: ['u'] },
    ]);
    await clock.advance(3_001);
    remember('products', ['k-5']);
    sent.length = 0;
    writes.replayTo(peer);
    expect(sent).toEqual([
      { op: 'invalidate', keySpace: 'products', keys: ['k-5', 'k-4'] },
      { op: 'invalidate', keySpace: 'users', keys: ['u'] },
    ]);
  });

  it('a smaller budget, or the keyspace removed, drops the list at once: a joining peer clears the keyspace', () => {
    const { sent, charged, writes, remember, peer, setLimit } = setup(Number.POSITIVE_INFINITY);
    remember('products', ['a', 'b']);
    setLimit(1);
    writes.enforce('products');
    expect(charged.get('products')).toBe(0);
    writes.replayTo(peer);
    expect(sent).toEqual([{ op: 'clearKeySpace', keySpace: 'products' }]);
  });
});
