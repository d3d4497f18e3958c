// A rolling deploy that adds a keyspace: for a while the new version's nodes have it and the old
// ones do not. A delete (what @CacheEvict does) of a key an old node owns is done: that node holds
// nothing of the keyspace. It failed with E_KEYSPACE_NOT_FOUND ("Owner refused the write"), so an
// evicting endpoint answered 500 until the rollout ended. Reads fall back to a local load; a put
// still fails (the owner cannot keep the value). Two engines in one process over real TCP.
import { afterEach, describe, expect, it } from 'vitest';
import { DistCacheEngine, isDistCacheError, staticDiscovery } from '../../src';
import { freePorts, waitUntil } from '../support/cluster';

let engines: DistCacheEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.map((engine) => engine.stop()));
  engines = [];
});

describe('a keyspace that only the newer nodes have', () => {
  it('delete of a key an older node owns is done; get falls back; put still fails', async () => {
    const ports = await freePorts(2);
    const peers = ports.map((port) => `127.0.0.1:${port}`);
    const loads: string[] = [];
    const node = (index: number, names: string[]): DistCacheEngine =>
      new DistCacheEngine({
        nodeName: `node-${index}`,
        host: '127.0.0.1',
        port: ports[index],
        discovery: staticDiscovery({ peers }),
        keySpaces: names.map((name) => ({
          name,
          dataSource: async (key: string) => {
            loads.push(`${index}:${name}/${key}`);
            return `${name}:${key}`;
          },
        })),
      });
    const newer = node(0, ['products', 'reviews']);
    const older = node(1, ['products']);
    engines = [newer, older];
    await Promise.all(engines.map((engine) => engine.start()));
    await waitUntil(() => engines.every((engine) => engine.stats().members === 2), 10_000, 'members');
    const keys = Array.from({ length: 40 }, (_, i) => `r${i}`).filter(
      (key) => newer.ownerOf('reviews', key) === peers[1],
    );
    expect(keys.length).toBeGreaterThan(2);
    const [first, second, third] = keys as [string, string, string];

    expect(await newer.get('reviews', first)).toBe(`reviews:${first}`);
    expect(loads).toEqual([`0:reviews/${first}`]); // the older owner declined; the newer node loaded it
    expect(await newer.delete('reviews', first)).toBe(false);
    expect(await newer.deleteMany('reviews', [second, third])).toBe(0);
    const put = await newer.put('reviews', second, 'value').catch((error: unknown) => error);
    expect(isDistCacheError(put, 'E_KEYSPACE_NOT_FOUND')).toBe(true);
    // The keyspace both have is untouched by all this.
    expect(await older.get('products', 'p1')).toBe('products:p1');
    expect(await newer.get('products', 'p1')).toBe('products:p1');
  });
});
