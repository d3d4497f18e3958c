import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import { DEFAULT_VIRTUAL_NODES, resolveHashRingOptions } from './hash-ring.options';
import { DEFAULT_HASHER } from './murmur3';

describe('resolveHashRingOptions', () => {
  it('fills the defaults', () => {
    expect(resolveHashRingOptions()).toEqual({ virtualNodes: DEFAULT_VIRTUAL_NODES, hasher: DEFAULT_HASHER });
    expect(resolveHashRingOptions({})).toEqual({
      virtualNodes: DEFAULT_VIRTUAL_NODES,
      hasher: DEFAULT_HASHER,
    });
  });

  it('keeps given values and freezes the result', () => {
    const hasher = { hash: () => 1 };
    const resolved = resolveHashRingOptions({ virtualNodes: 64, hasher });
    expect(resolved).toEqual({ virtualNodes: 64, hasher });
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('prefixes field paths when nested', () => {
    try {
      resolveHashRingOptions({ virtualNodes: 0 }, 'cluster.');
      expect.unreachable();
    } catch (error) {
      expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toMatch(/^Invalid option "cluster\.virtualNodes": must be an integer/);
    }
  });

  it('rejects options that are not an object', () => {
    expect(() => resolveHashRingOptions(5 as never, 'cluster.')).toThrow(/"cluster"/);
    expect(() => resolveHashRingOptions(null as never)).toThrow(/"options"/);
  });
});
