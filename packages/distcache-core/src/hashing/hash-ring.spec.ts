import { describe, expect, it } from 'vitest';
import { type DistCacheError, isDistCacheError } from '../errors/distcache-error';
import { HashRing, hashRing } from './hash-ring';
import { DEFAULT_VIRTUAL_NODES } from './hash-ring.options';
import type { Hasher } from './hasher';
import { DEFAULT_HASHER } from './murmur3';

const nodes = (count: number): string[] => Array.from({ length: count }, (_, i) => `10.0.0.${i + 1}:3320`);
const KEYS = Array.from({ length: 20_000 }, (_, i) => `products:${i}`);

function ownersOf(ring: HashRing, keys: readonly string[] = KEYS): string[] {
  return keys.map((key) => ring.ownerOf(key));
}

function thrown(fn: () => unknown): DistCacheError {
  try {
    fn();
  } catch (error) {
    if (isDistCacheError(error)) return error;
    throw error;
  }
  throw new Error('expected a DistCacheError');
}

describe('HashRing', () => {
  it('is deterministic whatever the order of the members, duplicates collapsed', () => {
    const members = nodes(7);
    const a = hashRing(members);
    const b = hashRing([...members].reverse());
    const c = hashRing(new Set([members[3]!, ...members, members[0]!]));
    expect(b.members).toEqual(a.members);
    expect(c.members).toEqual(a.members);
    expect(ownersOf(b)).toEqual(ownersOf(a));
    expect(ownersOf(c)).toEqual(ownersOf(a));
    expect(b.ownershipShare()).toEqual(a.ownershipShare());
    expect(hashRing([...members, members[2]!]).size).toBe(7);
  });

  it('keeps the same placement across versions (rolling upgrades need old and new nodes to agree)', () => {
    // If this fails, the placement scheme changed: a mixed-version cluster would disagree on owners.
    // That includes DEFAULT_VIRTUAL_NODES: changing the default changes placement too.
    expect(DEFAULT_VIRTUAL_NODES).toBe(256);
    const ring = hashRing(['10.0.0.3:3320', '10.0.0.1:3320', '10.0.0.2:3320']);
    const keys = ['a', 'b', 'products:42', 'users/7', 'ключ', 'orders:2026-11-25', 'x', 'products:43'];
    expect(keys.map((key) => ring.ownerOf(key))).toEqual([
      '10.0.0.1:3320',
      '10.0.0.2:3320',
      '10.0.0.1:3320',
      '10.0.0.1:3320',
      '10.0.0.3:3320',
      '10.0.0.1:3320',
      '10.0.0.2:3320',
      '10.0.0.3:3320',
    ]);
  });

  it('maps every key to a member', () => {
    for (const count of [1, 2, 7]) {
      const ring = hashRing(nodes(count));
      const members = new Set(ring.members);
      for (const owner of ownersOf(ring)) expect(members.has(owner)).toBe(true);
    }
    expect(new Set(ownersOf(hashRing(['only:1'])))).toEqual(new Set(['only:1']));
  });

  it('moves only the keys of a member that leaves', () => {
    const before = hashRing(nodes(10));
    const removed = before.members[4]!;
    const after = before.withMembers(before.members.filter((member) => member !== removed));
    const ownerBefore = ownersOf(before);
    const ownerAfter = ownersOf(after);
    let moved = 0;
    KEYS.forEach((_key, i) => {
      if (ownerBefore[i] === removed) {
        expect(ownerAfter[i]).not.toBe(removed);
        moved++;
      } else {
        expect(ownerAfter[i]).toBe(ownerBefore[i]);
      }
    });
    expect(moved).toBeGreaterThan(0);
  });

  it('moves keys only to a member that joins, about 1/(n+1) of them', () => {
    const before = hashRing(nodes(10));
    const joined = '10.0.1.1:3320';
    const after = before.withMembers([...before.members, joined]);
    const ownerBefore = ownersOf(before);
    const ownerAfter = ownersOf(after);
    let moved = 0;
    KEYS.forEach((_key, i) => {
      if (ownerAfter[i] !== ownerBefore[i]) {
        expect(ownerAfter[i]).toBe(joined);
        moved++;
      }
    });
    const ideal = KEYS.length / 11;
    expect(moved).toBeGreaterThan(ideal * 0.6);
    expect(moved).toBeLessThan(ideal * 1.4);
  });

  it('balances keys within a sane bound with the default virtual nodes', () => {
    const ring = hashRing(nodes(10));
    const counts = new Map<string, number>();
    for (const owner of ownersOf(ring)) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    const mean = KEYS.length / ring.size;
    expect(counts.size).toBe(10);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(mean * 0.75);
      expect(count).toBeLessThan(mean * 1.25);
    }
  });

  it('reports ownership shares that sum to 1 and match the keys each member gets', () => {
    const ring = hashRing(nodes(5));
    const shares = ring.ownershipShare();
    expect([...shares.keys()]).toEqual(ring.members);
    expect([...shares.values()].reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 12);
    const counts = new Map<string, number>();
    for (const owner of ownersOf(ring)) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    for (const [member, share] of shares) {
      expect(Math.abs((counts.get(member) ?? 0) / KEYS.length - share)).toBeLessThan(0.02);
    }
    expect(hashRing(['solo:1']).ownershipShare()).toEqual(new Map([['solo:1', 1]]));
    // The returned map is a copy.
    shares.clear();
    expect(ring.ownershipShare().size).toBe(5);
  });

  it('owners(): distinct members clockwise, the owner first, each the owner once those before leave', () => {
    const ring = hashRing(nodes(6));
    for (const key of KEYS.slice(0, 300)) {
      const all = ring.owners(key, 10);
      expect(all).toHaveLength(6);
      expect(new Set(all).size).toBe(6);
      expect(all[0]).toBe(ring.ownerOf(key));
      expect(ring.owners(key, 3)).toEqual(all.slice(0, 3));
      const withoutFirst = ring.withMembers(ring.members.filter((member) => member !== all[0]));
      expect(withoutFirst.ownerOf(key)).toBe(all[1]);
    }
    expect(ring.owners('k', 0)).toEqual([]);
  });

  it('empty ring: ownerOf throws E_PEER_UNAVAILABLE, the rest answers empty', () => {
    const ring = hashRing([]);
    expect(ring.size).toBe(0);
    expect(ring.pointCount).toBe(0);
    const error = thrown(() => ring.ownerOf('products:1'));
    expect(error.code).toBe('E_PEER_UNAVAILABLE');
    expect(error.message).toMatch(/no members/);
    expect(ring.owners('products:1', 3)).toEqual([]);
    expect(ring.ownershipShare().size).toBe(0);
  });

  it('is immutable: withMembers builds a new ring with the same options', () => {
    const ring = hashRing(nodes(3), { virtualNodes: 32 });
    const before = ownersOf(ring);
    const grown = ring.withMembers(nodes(4));
    expect(grown).not.toBe(ring);
    expect(grown.virtualNodes).toBe(32);
    expect(grown.pointCount).toBe(4 * 32);
    expect(ring.size).toBe(3);
    expect(ownersOf(ring)).toEqual(before);
    expect(Object.isFrozen(ring.members)).toBe(true);
    expect(ring.has(nodes(3)[0]!)).toBe(true);
    expect(ring.has('nope:1')).toBe(false);
  });

  it('uses DEFAULT_VIRTUAL_NODES points per member by default', () => {
    const ring = new HashRing(nodes(3));
    expect(ring.virtualNodes).toBe(DEFAULT_VIRTUAL_NODES);
    expect(ring.pointCount).toBe(3 * DEFAULT_VIRTUAL_NODES);
  });

  it('breaks ties between points at the same hash by member id, not input order', () => {
    const constant: Hasher = { hash: () => 42 };
    const members = ['c:1', 'a:1', 'b:1'];
    for (const order of [members, [...members].reverse()]) {
      const ring = hashRing(order, { hasher: constant, virtualNodes: 4 });
      expect(ring.ownerOf('anything')).toBe('a:1');
      expect(ring.owners('anything', 3)).toEqual(['a:1', 'b:1', 'c:1']);
      expect(ring.ownershipShare()).toEqual(
        new Map([
          ['a:1', 1],
          ['b:1', 0],
          ['c:1', 0],
        ]),
      );
    }
  });

  it('places members and keys with the given hasher', () => {
    const calls: string[] = [];
    const hasher: Hasher = {
      hash: (input) => {
        calls.push(input);
        return input.startsWith('b') ? 100 : 200;
      },
    };
    const ring = hashRing(['a:1', 'b:1'], { hasher, virtualNodes: 2 });
    expect(calls).toEqual(['a:1#0', 'a:1#1', 'b:1#0', 'b:1#1']);
    expect(ring.ownerOf('b-key')).toBe('b:1'); // 100 -> first point at or after 100
    expect(ring.ownerOf('x-key')).toBe('a:1'); // 200 -> a's points
  });
});

describe('HashRing lookup', () => {
  // Brute force: every point, sorted by (hash, member), first at or after the key's hash.
  function referenceOwner(members: readonly string[], virtualNodes: number, hasher: Hasher, key: string) {
    const points = [...members]
      .sort()
      .flatMap((member, index) =>
        Array.from({ length: virtualNodes }, (_, v) => ({
          hash: hasher.hash(`${member}#${v}`),
          index,
          member,
        })),
      )
      .sort((a, b) => a.hash - b.hash || a.index - b.index);
    const h = hasher.hash(key);
    return (points.find((point) => point.hash >= h) ?? points[0]!).member;
  }

  // Keys "=123" hash to 123, so the edges of the hash space can be aimed at.
  const aimed = (inner: Hasher): Hasher => ({
    hash: (input) => (input.startsWith('=') ? Number(input.slice(1)) : inner.hash(input)),
  });

  it.each([
    [1, 1],
    [3, 16],
    [7, 100],
    [20, 256],
  ])('matches a brute-force reference (%i members x %i points)', (count, virtualNodes) => {
    const hasher = aimed(DEFAULT_HASHER);
    const ring = hashRing(nodes(count), { virtualNodes, hasher });
    const edges = ['=0', '=1', `=${2 ** 31}`, `=${2 ** 32 - 2}`, `=${2 ** 32 - 1}`];
    for (const key of [...edges, ...KEYS.slice(0, 500)]) {
      expect(ring.ownerOf(key), key).toBe(referenceOwner(ring.members, virtualNodes, hasher, key));
    }
  });

  it('finds owners when many points share a bucket, and on exact point hits', () => {
    // Every point lands in [0, 5000): the whole ring sits in the first bucket of the index.
    const narrow = aimed({ hash: (input) => DEFAULT_HASHER.hash(input) % 5000 });
    const ring = hashRing(nodes(9), { virtualNodes: 50, hasher: narrow });
    for (let h = 0; h < 5100; h += 7) {
      expect(ring.ownerOf(`=${h}`), String(h)).toBe(referenceOwner(ring.members, 50, narrow, `=${h}`));
    }
    expect(ring.ownerOf(`=${2 ** 32 - 1}`)).toBe(referenceOwner(ring.members, 50, narrow, '=0'));
  });
});

describe('HashRing validation', () => {
  it.each([0, -1, 1.5, 4097, Number.NaN, Number.POSITIVE_INFINITY, '64'])(
    'rejects virtualNodes %s naming the field',
    (virtualNodes) => {
      const error = thrown(() => hashRing(nodes(2), { virtualNodes: virtualNodes as number }));
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details.path).toBe('virtualNodes');
      expect(error.message).toContain('"virtualNodes"');
    },
  );

  it('accepts virtualNodes from 1 to 4096', () => {
    expect(hashRing(nodes(2), { virtualNodes: 1 }).pointCount).toBe(2);
    expect(hashRing(nodes(2), { virtualNodes: 4096 }).pointCount).toBe(8192);
  });

  it('rejects a hasher without hash(), or one returning non-uint32 values', () => {
    expect(thrown(() => hashRing(nodes(2), { hasher: {} as Hasher })).details.path).toBe('hasher');
    for (const bad of [-1, 2 ** 32, 1.5, Number.NaN]) {
      const error = thrown(() => hashRing(nodes(2), { hasher: { hash: () => bad } }));
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details.path).toBe('hasher');
    }
  });

  it('rejects members that are not non-empty strings, naming the index', () => {
    const error = thrown(() => hashRing(['a:1', '', 'b:1']));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details.path).toBe('members[1]');
    expect(thrown(() => hashRing(['a:1', 7 as unknown as string])).details.path).toBe('members[1]');
    // A string is an Iterable<string> to TypeScript; iterating its characters would be a bug.
    expect(thrown(() => hashRing('a:1')).details.path).toBe('members');
    expect(thrown(() => hashRing(null as unknown as string[])).details.path).toBe('members');
  });

  it('rejects a negative or fractional owners() count', () => {
    const ring = hashRing(nodes(2));
    expect(thrown(() => ring.owners('k', -1)).details.path).toBe('count');
    expect(thrown(() => ring.owners('k', 1.5)).code).toBe('E_INVALID_OPTION');
  });
});
