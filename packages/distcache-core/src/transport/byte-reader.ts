import { isUtf8 } from 'node:buffer';
import { invalidFrame } from '../errors/messages';

const TWO_32 = 0x1_0000_0000;
// The high word of a safe integer (2^53 - 1) is at most 2^21 - 1.
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;

/**
 * Reads big-endian fields from one frame, checking every length against the frame's end, so a
 * truncated or lying frame raises `E_PROTOCOL` instead of reading past it.
 */
export class ByteReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number = buf.length,
  ) {
    this.pos = start;
  }

  /** True when every byte was consumed. */
  get done(): boolean {
    return this.pos === this.end;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++] as number;
  }

  u16(field: string): number {
    this.need(2, field);
    const value = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  u32(field: string): number {
    this.need(4, field);
    const value = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  u64(field: string): number {
    this.need(8, field);
    const high = this.buf.readUInt32BE(this.pos);
    const low = this.buf.readUInt32BE(this.pos + 4);
    if (high > MAX_SAFE_HIGH_WORD) throw invalidFrame(`${field} is over 2^53 - 1`);
    this.pos += 8;
    return high * TWO_32 + low;
  }

  str16(field: string): string {
    return this.string(this.u16(field), field);
  }

  str32(field: string): string {
    return this.string(this.u32(field), field);
  }

  /**
   * Bytes with an u32 length prefix, copied out of the frame: a cached value must not keep the
   * socket's whole read chunk alive. The copy comes from Node's Buffer pool when small (the
   * fastest allocation measured; it shares an 8 KiB slab with other small buffers).
   */
  bytes32(field: string): Uint8Array {
    const length = this.u32(field);
    this.need(length, field);
    const copy = Buffer.allocUnsafe(length);
    this.buf.copy(copy, 0, this.pos, this.pos + length);
    this.pos += length;
    return copy;
  }

  /**
   * Bytes with an u32 length prefix, as a view of the frame (no copy): for bytes that are decoded
   * and dropped, or copied by whoever keeps them (see `ValueResult.value`).
   */
  view32(field: string): Uint8Array {
    const length = this.u32(field);
    this.need(length, field);
    const view = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  /** An u32 element count, rejected at once when that many elements of `minElementBytes` cannot fit. */
  count(field: string, minElementBytes: number): number {
    const count = this.u32(field);
    if (count * minElementBytes > this.end - this.pos)
      throw invalidFrame(`${field} (${count}) exceeds the frame`);
    return count;
  }

  private string(length: number, field: string): string {
    this.need(length, field);
    const value = this.buf.toString('utf8', this.pos, this.pos + length);
    // toString turns invalid UTF-8 into U+FFFD, so two different keys could arrive as one. Only a
    // string holding U+FFFD can be such a case: the full check runs for those alone.
    if (value.includes('\uFFFD') && !isUtf8(this.buf.subarray(this.pos, this.pos + length)))
      throw invalidFrame(`${field} is not valid UTF-8`);
    this.pos += length;
    return value;
  }

  private need(bytes: number, field: string): void {
    if (this.pos + bytes > this.end) throw invalidFrame(`truncated at ${field}`);
  }
}
