import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock';
import { CacheEntry } from './cache-entry';
import { KeySpace } from './keyspace';
import { resolveKeySpaceConfig } from './keyspace.options';

function keySpace(clock: ManualClock): KeySpace<string> {
  const config = resolveKeySpaceConfig<string>(
    {
      name: 'products',
      ttl: 60_000,
      grace: 60_000,
      staleWhileRevalidate: true,
      dataSource: { fetch: () => 'new' },
      tags: () => ['sale'],
    },
    {},
    'keySpace',
  );
  return new KeySpace(config, {
    clock,
    lifetime: new AbortController().signal,
    hotShare: 0.25,
    readNow: () => clock.now(),
  });
}

describe('KeySpace tags', () => {
  it('a hot copy promoted to an owned entry stays revoked by a tag invalidation for its whole life', async () => {
    const clock = new ManualClock(1_000_000);
    const space = keySpace(clock);
    // A hot copy from the owner, tagged, kept 10 s (hotTtl); the owner's value is fresh for 60 s.
    const answer = new CacheEntry<string>(space.config.codec.encode('old'), clock.now() + 60_000);
    answer.setTagged({ tags: ['sale'], born: 0 });
    expect(space.storeHot('k', answer, { invalidated: false }, clock.now() + 10_000)).toBeDefined();
    // This node becomes the owner: the copy lives on as an owned entry, with grace.
    expect(space.promoteHot('k')).toBe(true);
    space.invalidateTags(['sale']);
    // Past the hot copy's own expiry: the tag's record must still outlive the promoted entry.
    await clock.advance(10_001);
    space.purgeExpired();
    const found = space.lookup('k', true);
    expect(found.state).toBe('miss');
  });
});
