// The fixed frame header and frame-level checks shared by the request, response and handshake
// codecs. Pure functions; the layout is specified in docs/protocol.md.
import { invalidFrame } from '../errors/messages';
import type { FrameBuilder } from './frame-builder';
import { FRAME_HEADER_BYTES, LENGTH_PREFIX_BYTES } from './wire-format';

/** The fixed header every frame starts with. */
export interface FrameHeader {
  /** Bytes after the length prefix (header rest plus body). */
  length: number;
  opcode: number;
  flags: number;
  /** Request id; 0 in handshake frames. */
  id: number;
}

/**
 * Reads the fixed header of a frame.
 *
 * @throws DistCacheError `E_PROTOCOL` when `frame` is shorter than the header or its length prefix
 *   does not match its size
 */
export function readFrameHeader(frame: Uint8Array): FrameHeader {
  const buf = asBuffer(frame);
  checkFrameLength(buf);
  return {
    length: buf.length - LENGTH_PREFIX_BYTES,
    opcode: buf[4] as number,
    flags: buf[5] as number,
    id: buf.readUInt32BE(6),
  };
}

/** True when the opcode is a request opcode (0x01-0x3f). */
export function isRequestOpcode(opcode: number): boolean {
  return opcode >= 0x01 && opcode <= 0x3f;
}

/** True when the opcode is a response opcode (0x81-0xbf). */
export function isResponseOpcode(opcode: number): boolean {
  return opcode >= 0x81 && opcode <= 0xbf;
}

/**
 * Checks that `buf` holds a whole frame: at least the header, and exactly the bytes its length
 * prefix announces.
 *
 * @throws DistCacheError `E_PROTOCOL` otherwise
 */
export function checkFrameLength(buf: Buffer): void {
  if (buf.length < FRAME_HEADER_BYTES)
    throw invalidFrame(`frame of ${buf.length} bytes is shorter than the header`);
  const length = buf.readUInt32BE(0);
  if (length !== buf.length - LENGTH_PREFIX_BYTES) {
    throw invalidFrame(
      `length prefix ${length} does not match the ${buf.length - LENGTH_PREFIX_BYTES} bytes that follow`,
    );
  }
}

/** The one frame a fresh builder holds. */
export function singleFrame(b: FrameBuilder): Buffer {
  return b.take()[0] as Buffer;
}

/** A Buffer view of `bytes` (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
