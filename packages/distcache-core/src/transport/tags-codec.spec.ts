import { describe, expect, it } from 'vitest';
import { decodeRequestFrame, encodeRequestFrame } from './request-codec';
import { decodeResponseFrame, encodeResponseFrame } from './response-codec';
import { FrameFlag, Opcode } from './wire-format';

describe('tags on the wire', () => {
  it('round-trips INVALIDATE_TAGS', () => {
    const frame = encodeRequestFrame(7, { op: 'invalidateTags', keySpace: 'ks', tags: ['a', 'ü'] });
    expect(frame[4]).toBe(Opcode.INVALIDATE_TAGS);
    expect(decodeRequestFrame(frame).request).toEqual({
      op: 'invalidateTags',
      keySpace: 'ks',
      tags: ['a', 'ü'],
    });
  });

  it('a SET carries its tags after the value, flagged; an untagged SET is unchanged', () => {
    const base = {
      op: 'set',
      keySpace: 'ks',
      key: 'k',
      value: new Uint8Array([1, 2]),
      expiresAt: 5,
    } as const;
    const tagged = encodeRequestFrame(1, { ...base, tags: ['t1', 't2'] });
    expect((tagged[5] as number) & FrameFlag.TAGS).toBe(FrameFlag.TAGS);
    expect(decodeRequestFrame(tagged).request).toMatchObject({ op: 'set', key: 'k', tags: ['t1', 't2'] });
    const plain = encodeRequestFrame(1, base);
    expect((plain[5] as number) & FrameFlag.TAGS).toBe(0);
    expect(decodeRequestFrame(plain).request).not.toHaveProperty('tags');
  });

  it('a GET asks for tagged values with the TAGS flag', () => {
    const frame = encodeRequestFrame(1, {
      op: 'get',
      keySpace: 'ks',
      key: 'k',
      forwarded: true,
      tagsReply: true,
    });
    expect(decodeRequestFrame(frame).request).toMatchObject({ op: 'get', tagsReply: true });
  });

  it('a tagged value travels with found byte 2; an untagged one with 1', () => {
    const value = Buffer.from([9]);
    const frame = encodeResponseFrame(3, {
      op: 'values',
      results: [
        { found: true, value, expiresAt: 10, tags: ['x'] },
        { found: true, value, expiresAt: 10 },
        { found: false, expiresAt: 0 },
      ],
    });
    const decoded = decodeResponseFrame(frame).response;
    expect(decoded).toEqual({
      op: 'values',
      results: [
        { found: true, value, expiresAt: 10, tags: ['x'] },
        { found: true, value, expiresAt: 10 },
        { found: false, expiresAt: 0 },
      ],
    });
  });

  it('refuses a truncated tag list', () => {
    const frame = encodeRequestFrame(1, { op: 'invalidateTags', keySpace: 'ks', tags: ['abc'] });
    const cut = Buffer.from(frame.subarray(0, frame.length - 1));
    cut.writeUInt32BE(cut.length - 4, 0);
    expect(() => decodeRequestFrame(cut)).toThrow(/truncated/);
  });
});
