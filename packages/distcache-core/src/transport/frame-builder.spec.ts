import { describe, expect, it } from 'vitest';
import { decodeRequestFrame, writeRequestFrame } from './frame-codec';
import { FrameBuilder } from './frame-builder';
import { FrameReader } from './frame-reader';
import type { PeerRequest } from './transport';

/** Splits the taken bytes back into frames. */
function frames(chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const reader = new FrameReader(
    1 << 30,
    (frame) => out.push(Buffer.from(frame)),
    (error) => {
      throw error;
    },
  );
  for (const chunk of chunks) reader.push(chunk);
  return out;
}

const get = (key: string): PeerRequest => ({ op: 'get', keySpace: 'ks', key, forwarded: false });

describe('FrameBuilder', () => {
  it('appends frames back to back and hands them out once', () => {
    const b = new FrameBuilder(1024);
    writeRequestFrame(b, 1, get('a'));
    writeRequestFrame(b, 2, get('b'));
    const taken = b.take();
    expect(frames(taken).map((frame) => decodeRequestFrame(frame).id)).toEqual([1, 2]);
    expect(b.take()).toEqual([]);
    expect(b.pendingBytes).toBe(0);
  });

  it('moves to a new arena when full, without touching bytes already taken', () => {
    const b = new FrameBuilder(64);
    writeRequestFrame(b, 1, get('first'));
    const first = b.take();
    const snapshot = Buffer.concat(first);
    for (let i = 2; i < 40; i++) writeRequestFrame(b, i, get(`key-${i}`));
    const big = new Uint8Array(10_000).fill(9);
    writeRequestFrame(b, 99, { op: 'set', keySpace: 'ks', key: 'big', value: big, expiresAt: 0 });
    const rest = b.take();
    expect(rest.length).toBeGreaterThan(1);
    expect(Buffer.concat(first)).toEqual(snapshot);
    const ids = frames(rest).map((frame) => decodeRequestFrame(frame).id);
    expect(ids).toEqual([...Array.from({ length: 38 }, (_, i) => i + 2), 99]);
  });

  it('rolls back a frame that failed half way and discards a finished one', () => {
    const b = new FrameBuilder(256);
    writeRequestFrame(b, 1, get('kept'));
    expect(() =>
      writeRequestFrame(b, 2, {
        op: 'set',
        keySpace: 'ks',
        key: 'k',
        value: new Uint8Array(1),
        expiresAt: -1,
      }),
    ).toThrow();
    b.rollback();
    const size = writeRequestFrame(b, 3, get('discarded'));
    b.discardLast(size);
    writeRequestFrame(b, 4, get('also kept'));
    expect(frames(b.take()).map((frame) => decodeRequestFrame(frame).id)).toEqual([1, 4]);
  });

  it('starts the arena over only when everything was taken, and drops one grown past 4x', () => {
    const b = new FrameBuilder(64);
    writeRequestFrame(b, 1, get('a'));
    b.recycle(); // a finished frame not taken yet: kept
    const [first] = b.take() as [Buffer];
    expect(decodeRequestFrame(first).id).toBe(1);
    b.recycle();
    writeRequestFrame(b, 2, get('b'));
    const [second] = b.take() as [Buffer];
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset);
    // One large frame grows the arena; past 4x the usual size it is not kept.
    writeRequestFrame(b, 3, get('k'.repeat(400)));
    const [large] = b.take() as [Buffer];
    expect(large.buffer.byteLength).toBeGreaterThan(4 * 64);
    b.recycle();
    writeRequestFrame(b, 4, get('c'));
    const [after] = b.take() as [Buffer];
    // (small arenas come from Buffer's shared pool: the same ArrayBuffer, another offset)
    expect(after.buffer !== large.buffer || after.byteOffset !== large.byteOffset).toBe(true);
    expect(frames([first, large, after]).map((frame) => decodeRequestFrame(frame).id)).toEqual([2, 3, 4]);
  });

  it('copies ready-made frames in', () => {
    const b = new FrameBuilder(16);
    const other = new FrameBuilder();
    writeRequestFrame(other, 7, get('x'));
    const [frame] = other.take();
    b.raw(frame as Buffer);
    expect(frames(b.take()).map((f) => decodeRequestFrame(f).id)).toEqual([7]);
  });
});
