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
  it('lists them for a joining peer within the window, charged to their keyspace, and forgets them after', async () => {
    const { clock, sent, charged, writes, remember, peer } = setup(Number.POSITIVE_INFINITY);
    remember('products', ['a', 'b']);
    remember('users', ['u']);
    expect(charged.get('products')).toBe(itemBytes('write', 'a') + itemBytes('write', 'b'));
    writes.replayTo(peer);
    expect(sent).toEqual([
      { op: 'invalidate', keySpace: 'products', keys: ['a', 'b'] },
      { op: 'invalidate', keySpace: 'users', keys: ['u'] },
    ]);
    // Past the window, with no write since: forgotten by the purge, and uncharged.
    await clock.advance(3_001);
    writes.forgetOld();
    expect(charged.get('products')).toBe(0);
    expect(charged.get('users')).toBe(0);
    sent.length = 0;
    writes.replayTo(peer);
    expect(sent).toEqual([]);
  });

  it('past the bytes its keyspace allows, a joining peer clears the keyspace instead, until the window passes', async () => {
    const one = itemBytes('write', 'k-0');
    const { clock, sent, charged, writes, remember, peer } = setup(3 * one);
    remember('products', ['k-0', 'k-1']);
    remember('products', ['k-2', 'k-3', 'k-4']);
    remember('users', ['u']);
    // Three keys' worth listed and charged; the rest not listed.
    expect(charged.get('products')).toBe(3 * one);
    writes.replayTo(peer);
    expect(sent).toEqual([
      { op: 'clearKeySpace', keySpace: 'products' },
      { op: 'invalidate', keySpace: 'users', keys: ['u'] },
    ]);
    await clock.advance(3_001);
    remember('products', ['k-5']);
    expect(charged.get('products')).toBe(one);
    sent.length = 0;
    writes.replayTo(peer);
    expect(sent).toEqual([{ op: 'invalidate', keySpace: 'products', keys: ['k-5'] }]);
  });

  it('a smaller budget stops the listing at once: a joining peer clears the keyspace', () => {
    const { sent, charged, writes, remember, peer, setLimit } = setup(Number.POSITIVE_INFINITY);
    remember('products', ['a', 'b']);
    setLimit(1);
    writes.enforce('products');
    remember('products', ['c']);
    // Those listed stay charged until they age out; no more are listed.
    expect(charged.get('products')).toBe(itemBytes('write', 'a') + itemBytes('write', 'b'));
    writes.replayTo(peer);
    expect(sent).toEqual([{ op: 'clearKeySpace', keySpace: 'products' }]);
  });
});
