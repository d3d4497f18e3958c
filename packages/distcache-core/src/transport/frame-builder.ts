import { invalidFrame } from '../errors/messages';
import { FRAME_HEADER_BYTES, LENGTH_PREFIX_BYTES, MAX_U64_SAFE } from './wire-format';

const TWO_32 = 0x1_0000_0000;
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffff_ffff;
/** Strings up to this many UTF-16 units are encoded by a JavaScript loop when they are ASCII. */
const SHORT_STRING = 64;

/**
 * Writes one frame into a growing buffer: the header first, then body fields in wire order, then
 * {@link finish} patches the length prefix. Integers are big-endian. Strings are UTF-8.
 */
export class FrameBuilder {
  private buf: Buffer;
  private pos = FRAME_HEADER_BYTES;

  /** @param capacity first guess of the frame size; the buffer grows when the guess is short */
  constructor(opcode: number, flags: number, id: number, capacity = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, FRAME_HEADER_BYTES));
    this.buf[4] = opcode;
    this.buf[5] = flags;
    this.buf.writeUInt32BE(id >>> 0, 6);
  }

  /** Sets header flag bits after construction (the meta flag is known only once meta is written). */
  addFlags(flags: number): void {
    this.buf[5] = (this.buf[5] ?? 0) | flags;
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

  /** Bytes with an u32 length prefix. */
  bytes32(value: Uint8Array, field: string): void {
    if (!(value instanceof Uint8Array)) throw invalidFrame(`${field} must be a Uint8Array`);
    this.ensure(4 + value.byteLength);
    this.buf.writeUInt32BE(value.byteLength, this.pos);
    this.buf.set(value, this.pos + 4);
    this.pos += 4 + value.byteLength;
  }

  /** Writes the length prefix and returns the frame (a view of the builder's buffer). */
  finish(): Buffer {
    this.buf.writeUInt32BE(this.pos - LENGTH_PREFIX_BYTES, 0);
    return this.buf.subarray(0, this.pos);
  }

  private string(value: string, prefix: number, max: number, field: string): void {
    if (typeof value !== 'string') throw invalidFrame(`${field} must be a string`);
    const length = value.length;
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes, so this bound makes `write` exact.
    this.ensure(prefix + length * 3);
    const start = this.pos + prefix;
    let bytes = 0;
    if (length <= SHORT_STRING) {
      // Keys and keyspace names are short and mostly ASCII: a plain loop is ~4x cheaper than the
      // native UTF-8 encoder call for them.
      const buf = this.buf;
      while (bytes < length) {
        const code = value.charCodeAt(bytes);
        if (code > 0x7f) break;
        buf[start + bytes++] = code;
      }
    }
    if (bytes < length) bytes = this.buf.write(value, start, 'utf8');
    if (bytes > max) throw invalidFrame(`${field} is ${bytes} bytes, over the ${max}-byte limit`);
    if (prefix === 2) this.buf.writeUInt16BE(bytes, this.pos);
    else this.buf.writeUInt32BE(bytes, this.pos);
    this.pos = start + bytes;
  }

  private ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}
