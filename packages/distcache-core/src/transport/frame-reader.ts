import { invalidFrame } from '../errors/messages';
import type { DistCacheError } from '../errors/distcache-error';
import type { BufferBudget } from './buffer-budget';
import { FRAME_HEADER_BYTES, HANDSHAKE_MAX_FRAME_BYTES, LENGTH_PREFIX_BYTES } from './wire-format';

/** Why a stream broke the framing. */
export type FramingProblem = 'over-limit' | 'too-short' | 'over-budget';

/**
 * Cuts a byte stream into frames. The length prefix is checked against the limit as soon as its
 * four bytes have arrived, before any of the body is buffered, so a lying prefix costs nothing.
 * Frames are handed out as views of the read chunks when they fit in one (the decoders copy what
 * they keep, except a response's value bytes: see `ValueResult.value`), and are assembled with one
 * copy when they span chunks.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  /** Read offset into `chunks[0]`. */
  private head = 0;
  private buffered = 0;
  /** Size of the frame being assembled, length prefix included; -1 while the prefix is incomplete. */
  private expected = -1;
  private stopped = false;
  /** Bytes of {@link budget} held for the frame being assembled. */
  private reservation = 0;
  private frames = 0;

  /**
   * @param maxFrameBytes largest accepted length prefix (bytes after the prefix); changeable with
   *   {@link setLimit} once the handshake has raised it
   * @param onFrame called with each complete frame, length prefix included
   * @param onError called once when the stream breaks the framing; the reader then stops
   * @param budget when given, each frame over 64 KiB reserves its announced length here before its
   *   body is read, and a frame that does not fit is an error (smaller frames are never refused)
   */
  constructor(
    private maxFrameBytes: number,
    private readonly onFrame: (frame: Buffer) => void,
    private readonly onError: (error: DistCacheError, problem: FramingProblem) => void,
    private readonly budget?: BufferBudget,
  ) {}

  /** Frames delivered so far. */
  get framesRead(): number {
    return this.frames;
  }

  /** True while part of a frame (or of its length prefix) is buffered. */
  get partial(): boolean {
    return this.buffered > 0;
  }

  /** Changes the frame-size limit for frames whose prefix has not been read yet. */
  setLimit(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Stops delivering frames (the connection is closing) and drops what is buffered. */
  stop(): void {
    this.stopped = true;
    this.chunks = [];
    this.buffered = 0;
    this.releaseReservation();
  }

  /** Feeds bytes read from the socket. */
  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.stopped) {
      if (this.expected < 0) {
        if (this.buffered < LENGTH_PREFIX_BYTES) return;
        const length = this.peekLength();
        if (length > this.maxFrameBytes) {
          return this.fail(
            `frame length ${length} is over the limit of ${this.maxFrameBytes} bytes`,
            'over-limit',
          );
        }
        if (length < FRAME_HEADER_BYTES - LENGTH_PREFIX_BYTES) {
          return this.fail(`frame length ${length} is shorter than the frame header`, 'too-short');
        }
        if (this.budget !== undefined && length > HANDSHAKE_MAX_FRAME_BYTES) {
          if (!this.budget.reserve(length)) {
            const left = this.budget.limit - this.budget.reserved;
            return this.fail(
              `frame length ${length} is over the ${left} bytes left of the buffer budget shared by all connections (maxBufferedBytes ${this.budget.limit})`,
              'over-budget',
            );
          }
          this.reservation = length;
        }
        this.expected = LENGTH_PREFIX_BYTES + length;
      }
      if (this.buffered < this.expected) return;
      const frame = this.take(this.expected);
      this.expected = -1;
      this.releaseReservation();
      this.frames++;
      this.onFrame(frame);
    }
  }

  private fail(message: string, problem: FramingProblem): void {
    this.stop();
    this.onError(invalidFrame(message), problem);
  }

  private releaseReservation(): void {
    if (this.reservation === 0) return;
    this.budget?.release(this.reservation);
    this.reservation = 0;
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length - this.head >= LENGTH_PREFIX_BYTES) return first.readUInt32BE(this.head);
    return this.copyOut(LENGTH_PREFIX_BYTES, false).readUInt32BE(0);
  }

  private take(bytes: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length - this.head >= bytes) {
      const frame = first.subarray(this.head, this.head + bytes);
      this.head += bytes;
      this.buffered -= bytes;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      return frame;
    }
    return this.copyOut(bytes, true);
  }

  /** Copies `bytes` from the front of the chunk list; consumes them when `consume` is set. */
  private copyOut(bytes: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(bytes);
    let written = 0;
    let index = 0;
    let offset = this.head;
    while (written < bytes) {
      const chunk = this.chunks[index] as Buffer;
      const n = Math.min(bytes - written, chunk.length - offset);
      chunk.copy(out, written, offset, offset + n);
      written += n;
      offset += n;
      if (offset === chunk.length) {
        index++;
        offset = 0;
      }
    }
    if (consume) {
      this.chunks.splice(0, index);
      this.head = offset;
      this.buffered -= bytes;
    }
    return out;
  }
}
