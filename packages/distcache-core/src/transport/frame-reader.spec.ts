import { describe, expect, it } from 'vitest';
import type { DistCacheError } from '../errors';
import { encodeRequestFrame } from './frame-codec';
import { FrameReader } from './frame-reader';

function collect(limit = 1024): { reader: FrameReader; frames: Buffer[]; errors: DistCacheError[] } {
  const frames: Buffer[] = [];
  const errors: DistCacheError[] = [];
  const reader = new FrameReader(
    limit,
    (frame) => frames.push(Buffer.from(frame)),
    (error) => errors.push(error),
  );
  return { reader, frames, errors };
}

const frameA = encodeRequestFrame(1, { op: 'get', keySpace: 'products', key: 'a', forwarded: false });
const frameB = encodeRequestFrame(2, {
  op: 'set',
  keySpace: 'p',
  key: 'b',
  value: new Uint8Array(300).fill(1),
  expiresAt: 5,
});

describe('FrameReader', () => {
  it('cuts several frames out of one chunk', () => {
    const { reader, frames } = collect();
    reader.push(Buffer.concat([frameA, frameB, frameA]));
    expect(frames).toEqual([frameA, frameB, frameA]);
  });

  it('reassembles frames fed one byte at a time', () => {
    const { reader, frames, errors } = collect();
    const stream = Buffer.concat([frameA, frameB]);
    for (const byte of stream) reader.push(Buffer.from([byte]));
    expect(frames).toEqual([frameA, frameB]);
    expect(errors).toEqual([]);
  });

  it('reassembles frames split at every position', () => {
    const stream = Buffer.concat([frameA, frameB]);
    for (let cut = 1; cut < stream.length; cut++) {
      const { reader, frames } = collect();
      reader.push(stream.subarray(0, cut));
      reader.push(stream.subarray(cut));
      expect(frames).toEqual([frameA, frameB]);
    }
  });

  it('fails as soon as a length prefix over the limit arrives, before any body', () => {
    const { reader, frames, errors } = collect(1024);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(0xffff_fff0, 0);
    reader.push(prefix);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('E_PROTOCOL');
    expect(errors[0]?.message).toContain('over the limit');
    reader.push(frameA);
    expect(frames).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it('fails on a length shorter than the header', () => {
    const { reader, errors } = collect();
    reader.push(Buffer.from([0, 0, 0, 2, 1, 1]));
    expect(errors[0]?.message).toContain('shorter than the frame header');
  });

  it('keeps a truncated frame buffered without delivering it', () => {
    const { reader, frames, errors } = collect();
    reader.push(frameB.subarray(0, frameB.length - 1));
    expect(frames).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('applies a raised limit to the next frame', () => {
    const { reader, frames, errors } = collect(64);
    reader.setLimit(4096);
    reader.push(frameB);
    expect(frames).toEqual([frameB]);
    expect(errors).toEqual([]);
  });

  it('stops delivering after stop()', () => {
    const { reader, frames } = collect();
    reader.stop();
    reader.push(frameA);
    expect(frames).toEqual([]);
  });
});
