import { describe, expect, it } from 'vitest';
import { jsonCodec } from './json.codec';
import { rawCodec } from './raw.codec';
import { encodedSizeAtLeast } from './size-bound';
import { structuredCodec } from './structured.codec';

const structured = structuredCodec();
const json = jsonCodec();

/** Values whose bound is compared with their real encoded size. */
const values: Array<[string, unknown]> = [
  ['latin-1 string', 'x'.repeat(5000)],
  ['two-byte string', 'é€'.repeat(2000)],
  ['astral string', '😀'.repeat(1000)],
  ['Buffer', Buffer.alloc(3000, 1)],
  ['Float64Array', new Float64Array(500)],
  ['array of strings and buffers', ['a'.repeat(100), Buffer.alloc(200), ['b'.repeat(300)]]],
  ['plain object', { name: 'n'.repeat(400), tags: ['t'.repeat(50)], nested: { bytes: new Uint8Array(64) } }],
  ['object with toJSON', { big: 'x'.repeat(1000), toJSON: () => 1 }],
  ['Date and numbers', { at: new Date(0), n: 42, ok: true }],
];

describe('encodedSizeAtLeast', () => {
  it.each(values)('never exceeds the structured encoding of a %s', (_, value) => {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return;
    const bound = encodedSizeAtLeast('structured', value, Number.MAX_SAFE_INTEGER);
    expect(bound).toBeLessThanOrEqual(structured.encode(value).byteLength);
  });

  it.each(values)('never exceeds the JSON encoding of a %s', (_, value) => {
    const bound = encodedSizeAtLeast('json', value, Number.MAX_SAFE_INTEGER);
    expect(bound).toBeLessThanOrEqual(json.encode(value).byteLength);
  });

  it('counts the strings and bytes of a value', () => {
    expect(
      encodedSizeAtLeast('structured', ['a'.repeat(100), Buffer.alloc(200), { s: 'c'.repeat(5) }], 1e9),
    ).toBe(305);
    expect(encodedSizeAtLeast('raw', rawCodec().encode(new Uint8Array(77)), 1e9)).toBe(77);
  });

  it('says nothing for a codec it does not know (it may compress)', () => {
    expect(encodedSizeAtLeast('gzip-json', 'x'.repeat(1e6), 10)).toBe(0);
  });

  it('stops counting once over the limit, and after a bounded number of values', () => {
    const many = Array.from({ length: 100_000 }, () => 'abcdefghij');
    expect(encodedSizeAtLeast('structured', many, 100)).toBeLessThanOrEqual(110);
    expect(encodedSizeAtLeast('structured', many, 1e9)).toBeLessThan(100_000 * 10);
  });
});
