import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../codec/json.codec';
import { JSON_PLAIN } from '../codec/json-form';
import { structuredCodec } from '../codec/structured.codec';
import { CacheEntry, ENTRY_OVERHEAD_BYTES, entrySize } from './cache-entry';
import { pack, unpack } from './packed-bytes';

const codec = structuredCodec<unknown>();
const value = () => ({
  id: 'p-1',
  at: new Date(Date.UTC(2026, 0, 2)),
  stock: new Map([['eu', 3]]),
  tags: new Set(['sale']),
  cents: 12345678901234567890n,
});

/** Bytes held for one value in 'frozen' mode once read, the entry's fixed part aside. */
function heldFor(bytes: Uint8Array, entryCodec = codec): number {
  const entry = new CacheEntry<unknown>(pack(bytes), 5_000);
  entry.read(entryCodec, 'frozen');
  return entry.held;
}

describe('CacheEntry', () => {
  it('counts objects JSON.parse made hash tables as such: 128 named keys and more, or a key the JSON codec removed', () => {
    const record = (n: number, extra: Record<string, number> = {}) => ({
      ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`field_${i}`, i])),
      ...extra,
    });
    const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    // The default codec's JSON form (what nodes of earlier versions wrote): a marker byte, then JSON.
    const jsonForm = (value: unknown) => new Uint8Array([JSON_PLAIN, ...text(value)]);
    // 127 keys: fast (8 B a slot past 4); 128: a hash table of 256 slots and its hidden class.
    const fast127 = heldFor(jsonForm(record(127)));
    const table128 = heldFor(jsonForm(record(128)));
    expect(table128 - fast127).toBe(48 + 24 * 256 + 80 - (16 + 8 * 123));
    expect(heldFor(text(record(128)), jsonCodec()) - heldFor(text(record(127)), jsonCodec())).toBe(
      table128 - fast127,
    );
    // The JSON codec drops `constructor`: removed from the middle, V8 makes the object a hash table;
    // as the last key, it takes the removal back and the object stays as it was.
    const json = jsonCodec();
    const plain = heldFor(text(record(30)), json);
    const middle = heldFor(text({ ...record(15), constructor: 1, ...record(30) }), json);
    const last = heldFor(text(record(30, { constructor: 1 })), json);
    expect(last).toBe(plain);
    expect(middle - plain).toBe(48 + 24 * 64 + 80 - (16 + 8 * 27));
  });

  it("in 'frozen' mode keeps the frozen value instead of the bytes after the first read", () => {
    const entry = new CacheEntry<unknown>(pack(codec.encode(value())), 5_000);
    const bytesHeld = entry.held;
    const first = entry.read(codec, 'frozen');
    expect(entry.isShared).toBe(true);
    expect(entry.read(codec, 'frozen')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => (first as { stock: Map<string, number> }).stock.set('us', 1)).toThrow(TypeError);
    expect(entry.held).not.toBe(bytesHeld);
    expect(entry.held).toBeGreaterThan(ENTRY_OVERHEAD_BYTES);
  });

  it('hands a held frozen value out in one resolved promise, kept by a retimed copy', async () => {
    const entry = new CacheEntry<unknown>(pack(codec.encode(value())), 5_000);
    expect(entry.answer).toBeUndefined();
    const first = entry.read(codec, 'frozen');
    const answer = entry.answer;
    expect(answer).toBeInstanceOf(Promise);
    expect(await answer).toBe(first);
    expect(entry.retimed(6_000).answer).toBe(answer);
    const copy = new CacheEntry<unknown>(pack(codec.encode(value())), 5_000);
    copy.read(codec, 'copy');
    expect(copy.answer).toBeUndefined();
  });

  it('sends peers the held value encoded again: Dates, Maps, Sets and BigInts round-trip', () => {
    const entry = new CacheEntry<unknown>(pack(codec.encode(value())), 5_000);
    entry.read(codec, 'frozen');
    const wire = entry.wireBytes(codec);
    expect(wire).toBeDefined();
    expect(codec.decode(unpack(wire!))).toEqual(value());
    // A private copy for a single caller is not the shared, frozen one.
    const own = entry.readPrivate(codec) as { stock: Map<string, number> };
    own.stock.set('us', 1);
    expect(own.stock.get('us')).toBe(1);
  });

  it("in 'copy' mode keeps the bytes and decodes a private copy for every read", () => {
    const entry = new CacheEntry<unknown>(pack(codec.encode(value())), 5_000);
    const held = entry.held;
    const first = entry.read(codec, 'copy');
    expect(entry.read(codec, 'copy')).not.toBe(first);
    expect(Object.isFrozen(first)).toBe(false);
    expect(entry.isShared).toBe(false);
    expect(entry.held).toBe(held);
  });

  it('keeps the bytes of a value holding a Buffer (it cannot be frozen) and decodes every read', () => {
    const entry = new CacheEntry<unknown>(pack(codec.encode({ image: Buffer.from('png') })), 5_000);
    const held = entry.held;
    const first = entry.read(codec, 'frozen') as { image: Buffer };
    first.image[0] = 0;
    const second = entry.read(codec, 'frozen') as { image: Buffer };
    expect(second.image.toString()).toBe('png');
    expect(entry.held).toBe(held);
  });

  it('charges packed bytes at their length plus a string header, and the key', () => {
    const bytes = serialize({ text: 'x'.repeat(1_000) });
    const entry = new CacheEntry<unknown>(pack(bytes), 5_000);
    expect(entry.held).toBe(ENTRY_OVERHEAD_BYTES + 16 + Math.ceil(bytes.byteLength / 8) * 8);
    expect(entrySize('product:1', entry)).toBe(entry.held + 16 + 16);
  });

  it('retimed copies share the held form, pack received bytes and keep grace', () => {
    const received = codec.encode(value());
    const entry = new CacheEntry<unknown>(received, 5_000);
    const kept = entry.retimed(4_000, 9_000);
    expect(kept.freshUntil).toBe(4_000);
    expect(kept.expiresAt).toBe(9_000);
    expect(kept.held).toBeLessThan(entry.held); // a 16 B string header instead of a Uint8Array's records
    // Sent as held: the packed string itself, no buffer of its own.
    expect(typeof kept.wireBytes(codec)).toBe('string');
    expect(codec.decode(unpack(kept.wireBytes(codec)!))).toEqual(value());
    entry.read(codec, 'frozen');
    const shared = entry.retimed(Infinity);
    expect(shared.read(codec, 'frozen')).toBe(entry.read(codec, 'frozen'));
    expect(shared.expiresAt).toBe(Infinity);
  });
});
