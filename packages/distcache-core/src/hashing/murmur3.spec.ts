import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import { DEFAULT_HASHER, Murmur3Hasher, murmur3Bytes, murmur3Hasher, murmur3String } from './murmur3';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

// Published MurmurHash3 x86_32 vectors (SMHasher reference output, as collected in
// stackoverflow.com/questions/14747343 and used by Boost.Hash2's tests).
const BYTE_VECTORS: ReadonlyArray<[string, Uint8Array, number, number]> = [
  ['empty, seed 0', bytes(), 0, 0],
  ['empty, seed 1', bytes(), 1, 0x514e28b7],
  ['empty, seed 0xffffffff', bytes(), 0xffffffff, 0x81f16f39],
  ['ff ff ff ff', bytes(0xff, 0xff, 0xff, 0xff), 0, 0x76293b50],
  ['21 43 65 87', bytes(0x21, 0x43, 0x65, 0x87), 0, 0xf55b516b],
  ['21 43 65 87, seed 0x5082edee', bytes(0x21, 0x43, 0x65, 0x87), 0x5082edee, 0x2362f9de],
  ['21 43 65', bytes(0x21, 0x43, 0x65), 0, 0x7e4a8634],
  ['21 43', bytes(0x21, 0x43), 0, 0xa0f7b07a],
  ['21', bytes(0x21), 0, 0x72661cf4],
  ['00 00 00 00', bytes(0, 0, 0, 0), 0, 0x2362f9de],
  ['00 00 00', bytes(0, 0, 0), 0, 0x85f0b427],
  ['00 00', bytes(0, 0), 0, 0x30f4c306],
  ['00', bytes(0), 0, 0x514e28b7],
];

const STRING_VECTORS: ReadonlyArray<[string, number, number]> = [
  ['', 0, 0],
  ['abc', 0, 0xb3dd93fa],
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', 0, 0xee925b90],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['a', 0x9747b28c, 0x7fa09ea6],
  ['aa', 0x9747b28c, 0x5d211726],
  ['aaa', 0x9747b28c, 0x283e0130],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['abcd', 0x9747b28c, 0xf0478627],
  ['a'.repeat(256), 0x9747b28c, 0x37405bdc],
  // Non-ASCII: hashed over UTF-8 (each π is CF 80).
  ['ππππππππ', 0x9747b28c, 0xd58063c1],
];

describe('murmur3Bytes', () => {
  it.each(BYTE_VECTORS)('matches the reference for %s', (_name, input, seed, expected) => {
    expect(murmur3Bytes(input, seed)).toBe(expected);
  });

  it('hashes only the first `length` bytes', () => {
    expect(murmur3Bytes(bytes(0x21, 0x43, 0x65, 0x99, 0x99), 0, 3)).toBe(0x7e4a8634);
  });
});

describe('murmur3String', () => {
  it.each(STRING_VECTORS)('matches the reference for %j (seed %i)', (input, seed, expected) => {
    expect(murmur3String(input, seed)).toBe(expected);
  });

  it('equals murmur3 over the UTF-8 bytes, whatever the characters and length', () => {
    const samples = [
      'products:00000000042',
      'é',
      'aé',
      'abcé',
      'abcdé',
      'ключ:42',
      '日本語のキー',
      'emoji 🎉 key',
      '🎉',
      'lone \ud800 surrogate',
      '\udfff',
      'x'.repeat(3) + '€',
      'long-ü'.repeat(400), // longer than the scratch buffer
    ];
    for (const sample of samples) {
      for (const seed of [0, 1, 0x9747b28c, 0xffffffff]) {
        expect(murmur3String(sample, seed), JSON.stringify(sample)).toBe(
          murmur3Bytes(Buffer.from(sample, 'utf8'), seed),
        );
      }
    }
  });

  it('returns unsigned 32-bit integers', () => {
    for (let i = 0; i < 1000; i++) {
      const h = murmur3String(`key-${i}`);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }
  });
});

describe('Murmur3Hasher', () => {
  it('uses its seed', () => {
    expect(murmur3Hasher({ seed: 0x9747b28c }).hash('Hello, world!')).toBe(0x24884cba);
    expect(new Murmur3Hasher().hash('abc')).toBe(0xb3dd93fa);
    expect(DEFAULT_HASHER.hash('abc')).toBe(0xb3dd93fa);
  });

  it.each([-1, 1.5, 2 ** 32, Number.NaN])('rejects seed %s with E_INVALID_OPTION', (seed) => {
    let caught: unknown;
    try {
      murmur3Hasher({ seed });
    } catch (error) {
      caught = error;
    }
    expect(isDistCacheError(caught, 'E_INVALID_OPTION')).toBe(true);
    expect((caught as Error).message).toContain('"seed"');
  });
});
