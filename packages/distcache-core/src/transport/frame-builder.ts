import { invalidFrame } from '../errors/messages';
import type { WireBytes } from './transport';
import { FRAME_HEADER_BYTES, LENGTH_PREFIX_BYTES, MAX_U64_SAFE } from './wire-format';

const TWO_32 = 0x1_0000_0000;
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffff_ffff;
/** Strings up to this many UTF-16 units are encoded by a JavaScript loop when they are ASCII. */
const SHORT_STRING = 64;
/** An arena grown for a large frame is kept for reuse up to this many times the usual size. */
const MAX_KEPT_ARENAS = 4;
/** A character that is not one byte: such a string is no {@link WireBytes}. */
const NOT_LATIN1 = /[\u0100-\uffff]/;

/**
 * An append-only byte arena that frames are encoded into, one after the other: {@link begin} writes
 * the header, the body fields follow in wire order, {@link finish} patches the length prefix (or
 * {@link rollback} forgets the frame). {@link take} hands out everything finished since the last
 * take, without copying; bytes once taken are never written again, so they may sit in a socket's
 * queue. A connection encodes straight into its arena, so a reply costs no buffer of its own and no
 * copy when a tick's frames are written together. Integers are big-endian, strings UTF-8.
 */
export class FrameBuilder {
  private buf: Buffer;
  /** Start of the bytes not yet taken. */
  private start = 0;
  /** Start of the frame being built. */
  private frameStart = 0;
  private pos = 0;
  /** Finished, not yet taken regions of arenas that were outgrown. */
  private sealed: Buffer[] = [];

  private readonly arenaBytes: number;

  /** @param arenaBytes size of each arena; a frame larger than it gets an arena of its own size */
  constructor(arenaBytes = 64 * 1024) {
    // A size estimated from a malformed message is NaN: the field's own check throws E_PROTOCOL
    // when it is written.
    this.arenaBytes = arenaBytes >= FRAME_HEADER_BYTES ? arenaBytes : FRAME_HEADER_BYTES;
    this.buf = Buffer.allocUnsafe(this.arenaBytes);
  }

  /** Bytes finished and not yet taken. */
  get pendingBytes(): number {
    let bytes = this.frameStart - this.start;
    for (const region of this.sealed) bytes += region.length;
    return bytes;
  }

  /**
   * Starts a frame.
   *
   * @param estimate expected frame size; the arena makes room for it up front
   */
  begin(opcode: number, flags: number, id: number, estimate = 64): void {
    this.frameStart = this.pos;
    // An estimate from a malformed message (a field of the wrong type) is NaN: the field's own
    // check throws E_PROTOCOL when it is written, not a RangeError here.
    this.ensure(estimate > FRAME_HEADER_BYTES ? estimate : FRAME_HEADER_BYTES);
    const buf = this.buf;
    const at = this.frameStart;
    buf[at + 4] = opcode;
    buf[at + 5] = flags;
    buf.writeUInt32BE(id >>> 0, at + 6);
    this.pos = at + FRAME_HEADER_BYTES;
  }

  /** Sets header flag bits of the current frame (the meta flag is known only once meta is written). */
  addFlags(flags: number): void {
    const at = this.frameStart + 5;
    this.buf[at] = (this.buf[at] ?? 0) | flags;
  }

  /** Ends the current frame; returns its size in bytes, length prefix included. */
  finish(): number {
    const size = this.pos - this.frameStart;
    this.buf.writeUInt32BE(size - LENGTH_PREFIX_BYTES, this.frameStart);
    this.frameStart = this.pos;
    return size;
  }

  /** Forgets the frame begun and not finished (it failed to encode). */
  rollback(): void {
    this.pos = this.frameStart;
  }

  /** Forgets the frame finished last, of `size` bytes (too large to send); only before {@link take}. */
  discardLast(size: number): void {
    this.pos -= size;
    this.frameStart = this.pos;
  }

  /** Copies a ready-made frame in. */
  raw(frame: Uint8Array): void {
    this.frameStart = this.pos;
    this.ensure(frame.length);
    this.buf.set(frame, this.pos);
    this.pos += frame.length;
    this.frameStart = this.pos;
  }

  /**
   * Starts the arena over from its beginning, once everything taken has left the process (the
   * socket wrote it all) and no frame is being built; otherwise does nothing. Without it a
   * connection allocated a new arena (an `ArrayBuffer` outside the heap) each time one filled:
   * once per ~50 KB `getMany` answer, and the external memory pressure made an owner run a full
   * garbage collection every ~300 ms (bench/get-many). An arena grown past four times the usual
   * size for one large frame is dropped for a fresh one of the usual size.
   */
  recycle(): void {
    if (this.pos !== this.start || this.sealed.length > 0) return;
    if (this.buf.length > MAX_KEPT_ARENAS * this.arenaBytes) this.buf = Buffer.allocUnsafe(this.arenaBytes);
    this.start = 0;
    this.frameStart = 0;
    this.pos = 0;
  }

  /** Everything finished since the last take (a view, or a few views when arenas were outgrown). */
  take(): Buffer[] {
    const out = this.sealed;
    this.sealed = [];
    if (this.frameStart > this.start) out.push(this.buf.subarray(this.start, this.frameStart));
    this.start = this.frameStart;
    return out;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  u16(value: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(value, this.pos);
    this.pos += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(value, this.pos);
    this.pos += 4;
  }

  /** An unsigned 64-bit integer, limited to the safe-integer range of JavaScript numbers. */
  u64(value: number, field: string): void {
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_U64_SAFE) {
      throw invalidFrame(`${field} must be a non-negative safe integer, got ${String(value)}`);
    }
    this.ensure(8);
    this.buf.writeUInt32BE(Math.floor(value / TWO_32), this.pos);
    this.buf.writeUInt32BE(value >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** A string with an u16 byte-length prefix. */
  str16(value: string, field: string): void {
    this.string(value, 2, MAX_U16, field);
  }

  /** A string with an u32 byte-length prefix. */
  str32(value: string, field: string): void {
    this.string(value, 4, MAX_U32, field);
  }

  /**
   * An answer's value with an u32 length prefix: a `Uint8Array`, or a string of one byte per
   * character ({@link WireBytes}, as the engine holds values), copied straight into the arena.
   * Only answers take strings: a request's bytes go through {@link bytes32}.
   */
  wireBytes32(value: WireBytes, field: string): void {
    if (typeof value !== 'string') return this.bytes32(value, field);
    if (NOT_LATIN1.test(value)) throw invalidFrame(`${field} must hold one byte per character`);
    const length = value.length;
    this.ensure(4 + length);
    this.buf.writeUInt32BE(length, this.pos);
    this.buf.write(value, this.pos + 4, length, 'latin1');
    this.pos += 4 + length;
  }

  /** Bytes with an u32 length prefix. */
  bytes32(value: Uint8Array, field: string): void {
    if (!(value instanceof Uint8Array)) throw invalidFrame(`${field} must be a Uint8Array`);
    this.ensure(4 + value.byteLength);
    this.buf.writeUInt32BE(value.byteLength, this.pos);
    this.buf.set(value, this.pos + 4);
    this.pos += 4 + value.byteLength;
  }

  private string(value: string, prefix: number, max: number, field: string): void {
    if (typeof value !== 'string') throw invalidFrame(`${field} must be a string`);
    const length = value.length;
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes, so this bound makes `write` exact.
    this.ensure(prefix + length * 3);
    const buf = this.buf;
    const start = this.pos + prefix;
    let bytes = 0;
    if (length <= SHORT_STRING) {
      // Keys and keyspace names are short and mostly ASCII: a plain loop is ~4x cheaper than the
      // native UTF-8 encoder call for them.
      while (bytes < length) {
        const code = value.charCodeAt(bytes);
        if (code > 0x7f) break;
        buf[start + bytes++] = code;
      }
    }
    if (bytes < length) bytes = buf.write(value, start, 'utf8');
    if (bytes > max) throw invalidFrame(`${field} is ${bytes} bytes, over the ${max}-byte limit`);
    if (prefix === 2) buf.writeUInt16BE(bytes, this.pos);
    else buf.writeUInt32BE(bytes, this.pos);
    this.pos = start + bytes;
  }

  /** Makes room for `bytes` more; moves the current frame to a new arena when this one is full. */
  private ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buf.length) return;
    if (this.frameStart > this.start) this.sealed.push(this.buf.subarray(this.start, this.frameStart));
    const partial = this.pos - this.frameStart;
    const grown = Buffer.allocUnsafe(Math.max(this.arenaBytes, 2 * partial + bytes));
    this.buf.copy(grown, 0, this.frameStart, this.pos);
    this.buf = grown;
    this.start = 0;
    this.frameStart = 0;
    this.pos = partial;
  }
}
