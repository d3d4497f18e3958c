// Pure encode/decode of response frames (no sockets, no state), so they can be unit tested and
// fuzzed on their own. The layout is specified in docs/protocol.md.
import { ERROR_CODES, type DistCacheErrorCode } from '../errors/error-codes';
import { invalidFrame } from '../errors/messages';
import { type ErrorDetail, toErrorDetail } from '../errors/remote-error';
import { ByteReader } from './byte-reader';
import { FrameBuilder } from './frame-builder';
import { readTags, tagsSize, writeTags } from './request-codec';
import { asBuffer, checkFrameLength, singleFrame } from './frame-header';
import {
  type KeyErrorResult,
  type KeyResult,
  type PeerReply,
  type PeerResponse,
  type ValueResult,
  type WireBytes,
  wireByteLength,
} from './transport';
import { FRAME_HEADER_BYTES, LENGTH_PREFIX_BYTES, Opcode, ResponseFlag } from './wire-format';

/** A decoded response frame. */
export interface ResponseFrame {
  id: number;
  response: PeerResponse;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.keys(ERROR_CODES));
/** The found byte of a key that failed (extended VALUES, in answer to KEY_ERRORS). */
const KEY_ERROR = 3;
/** The found byte of a key still loading on the receiver (extended VALUES): ask for it with a GET. */
const KEY_PENDING = 4;
// Longest error message sent: 16 383 UTF-16 units can never exceed the u16 byte limit.
const MAX_ERROR_MESSAGE_CHARS = 16_383;
/**
 * Largest error detail sent, in UTF-8 bytes of its JSON: past it the response body is left out,
 * then the message shortened. An error page is not worth a large frame.
 */
export const MAX_ERROR_DETAIL_BYTES = 16 * 1024;

/**
 * Encodes a response frame into its own buffer.
 *
 * @throws DistCacheError `E_PROTOCOL` when a field cannot be represented
 */
export function encodeResponseFrame(id: number, response: PeerReply, extended = false): Buffer {
  const b = new FrameBuilder(64);
  writeResponseFrame(b, id, response, extended);
  return singleFrame(b);
}

/**
 * A lower bound of the bytes after the length prefix that {@link writeResponseFrame} would write
 * for `response` (what a receiver's `maxFrameBytes` counts), from its values' lengths alone (0 for
 * responses without values): enough to refuse an answer over the requester's limit before building
 * it.
 */
export function responseSizeAtLeast(response: PeerReply): number {
  const header = FRAME_HEADER_BYTES - LENGTH_PREFIX_BYTES;
  if (response.op === 'value') return header + resultSizeAtLeast(response.result);
  if (response.op !== 'values') return 0;
  let size = header + 4;
  for (const result of response.results)
    if (result.found !== 'error' && result.found !== 'pending') size += resultSizeAtLeast(result);
  return size;
}

/** {@link resultSize} without the tags (whose size it bounds from above). */
function resultSizeAtLeast(result: ValueResult<WireBytes>): number {
  return result.found ? 13 + wireByteLength(result.value) : 9;
}

/**
 * Appends a response frame to `b` and returns its size (length prefix included). On a throw the
 * partial frame is still in `b`: call `b.rollback()`. With `extended` (the request asked for it),
 * an OK carries `removed` and an ERROR its `detail` when they are set.
 *
 * @throws DistCacheError `E_PROTOCOL` like {@link encodeResponseFrame}
 */
export function writeResponseFrame(
  b: FrameBuilder,
  id: number,
  response: PeerReply,
  extended = false,
): number {
  switch (response.op) {
    case 'value':
      b.begin(Opcode.VALUE, 0, id, FRAME_HEADER_BYTES + resultSize(response.result));
      writeResult(b, response.result);
      break;
    case 'values': {
      let size = FRAME_HEADER_BYTES + 4;
      let keyErrors = false;
      for (const result of response.results) {
        if (result.found === 'error' || result.found === 'pending') keyErrors = true;
        else size += resultSize(result);
      }
      b.begin(Opcode.VALUES, keyErrors ? ResponseFlag.EXTENDED : 0, id, size);
      b.u32(response.results.length);
      for (const result of response.results) {
        if (result.found === 'error') writeKeyError(b, result);
        else if (result.found === 'pending') b.u8(KEY_PENDING);
        else writeResult(b, result);
      }
      break;
    }
    case 'ok':
      if (extended && response.removed !== undefined) {
        b.begin(Opcode.OK, ResponseFlag.EXTENDED, id, FRAME_HEADER_BYTES + 4);
        b.u32(response.removed);
      } else b.begin(Opcode.OK, 0, id, FRAME_HEADER_BYTES);
      break;
    case 'pong':
      b.begin(Opcode.PONG, 0, id, FRAME_HEADER_BYTES + 2 + 3 * response.nodeId.length);
      b.str16(response.nodeId, 'nodeId');
      break;
    case 'error': {
      const detail = extended && response.detail !== undefined ? detailJson(response.detail) : undefined;
      b.begin(Opcode.ERROR, detail === undefined ? 0 : ResponseFlag.EXTENDED, id, 128);
      b.str16(response.code, 'code');
      b.str16(String(response.message).slice(0, MAX_ERROR_MESSAGE_CHARS), 'message');
      if (detail !== undefined) b.str32(detail, 'detail');
      break;
    }
    default:
      throw invalidFrame(`unknown response op ${JSON.stringify((response as { op: unknown }).op)}`);
  }
  return b.finish();
}

/**
 * Decodes a response frame (length prefix included). An error code this version does not know is
 * reported as `E_PEER_UNAVAILABLE`, with the original code kept at the start of the message.
 *
 * @throws DistCacheError `E_PROTOCOL` when the frame is not a well-formed response
 */
export function decodeResponseFrame(frame: Uint8Array): ResponseFrame {
  const buf = asBuffer(frame);
  checkFrameLength(buf);
  const opcode = buf[4] as number;
  const extended = ((buf[5] as number) & ResponseFlag.EXTENDED) !== 0;
  const id = buf.readUInt32BE(6);
  const r = new ByteReader(buf, FRAME_HEADER_BYTES);
  let response: PeerResponse;
  switch (opcode) {
    case Opcode.VALUE:
      response = { op: 'value', result: readResult(r) };
      break;
    case Opcode.VALUES: {
      // A pending key is one byte; every other result is at least nine.
      const count = r.count('results', extended ? 1 : 9);
      const results = new Array<KeyResult>(count);
      for (let i = 0; i < count; i++) results[i] = extended ? readResultOrError(r) : readResult(r);
      response = { op: 'values', results };
      break;
    }
    case Opcode.OK:
      response = extended ? { op: 'ok', removed: r.u32('removed') } : { op: 'ok' };
      break;
    case Opcode.PONG:
      response = { op: 'pong', nodeId: r.str16('nodeId') };
      break;
    case Opcode.ERROR: {
      const code = r.str16('code');
      const message = r.str16('message');
      response = KNOWN_CODES.has(code)
        ? { op: 'error', code: code as DistCacheErrorCode, message }
        : { op: 'error', code: 'E_PEER_UNAVAILABLE', message: `[${code}] ${message}` };
      if (extended) {
        const detail = parseDetail(r.str32('detail'));
        if (detail !== undefined) response.detail = detail;
      }
      break;
    }
    default:
      throw invalidFrame(`opcode 0x${opcode.toString(16)} is not a response`);
  }
  if (!r.done) throw invalidFrame(`trailing bytes after a ${response.op} response`);
  return { id, response };
}

function resultSize(result: ValueResult<WireBytes>): number {
  if (!result.found) return 9;
  return 13 + wireByteLength(result.value) + (isTagged(result) ? tagsSize(result.tags) : 0);
}

// Found byte: 0 not found, 1 a value, 2 a value followed by its tags (sent only to a requester
// that set FrameFlag.TAGS: the handler leaves `tags` out otherwise).
function writeResult(b: FrameBuilder, result: ValueResult<WireBytes>): void {
  const tagged = isTagged(result);
  b.u8(result.found ? (tagged ? 2 : 1) : 0);
  b.u64(result.expiresAt, 'expiresAt');
  if (result.found) b.wireBytes32(result.value, 'value');
  if (tagged) writeTags(b, (result as { tags: readonly string[] }).tags);
}

function isTagged(result: ValueResult<WireBytes>): boolean {
  return result.found && result.tags !== undefined && result.tags.length > 0;
}

function readResult(r: ByteReader): ValueResult {
  return readFoundResult(r, r.u8('found'));
}

function readFoundResult(r: ByteReader, found: number): ValueResult {
  const expiresAt = r.u64('expiresAt');
  if (found === 0) return { found: false, expiresAt };
  if (found !== 1 && found !== 2) throw invalidFrame(`found byte must be 0, 1 or 2, got ${found}`);
  // A view of the frame: a remote get decodes it and drops it, and an entry that keeps bytes packs
  // them into a copy of its own (`pack`, `CacheEntry.retimed`), so copying here was a second copy
  // per answer (bench/README.md, "Remote hit", 2026-12-02).
  const value = r.view32('value');
  if (found === 1) return { found: true, value, expiresAt };
  return { found: true, value, expiresAt, tags: readTags(r) };
}

/**
 * A key error of an extended VALUES: found byte 3 (2 is reserved for tagged values, issue #16; see
 * docs/protocol.md), then `str16 code, str16 message, str32 detail`.
 */
function writeKeyError(b: FrameBuilder, result: KeyErrorResult): void {
  b.u8(KEY_ERROR);
  b.str16(result.code, 'code');
  b.str16(String(result.message).slice(0, MAX_ERROR_MESSAGE_CHARS), 'message');
  b.str32(result.detail === undefined ? '' : (detailJson(result.detail) ?? ''), 'detail');
}

function readResultOrError(r: ByteReader): KeyResult {
  const found = r.u8('found');
  if (found === KEY_PENDING) return { found: 'pending' };
  if (found !== KEY_ERROR) return readFoundResult(r, found);
  const code = r.str16('code');
  const message = r.str16('message');
  const json = r.str32('detail');
  const result: KeyErrorResult = KNOWN_CODES.has(code)
    ? { found: 'error', code: code as DistCacheErrorCode, message }
    : { found: 'error', code: 'E_PEER_UNAVAILABLE', message: `[${code}] ${message}` };
  const detail = json === '' ? undefined : parseDetail(json);
  if (detail !== undefined) result.detail = detail;
  return result;
}

/**
 * The GOAWAY frame (header only, id 0) a server sends before closing an idle connection. Peers of
 * protocol 1 that predate it ignore it: no request in flight has id 0.
 */
export function encodeGoAwayFrame(): Buffer {
  const frame = Buffer.alloc(FRAME_HEADER_BYTES);
  frame.writeUInt32BE(FRAME_HEADER_BYTES - LENGTH_PREFIX_BYTES, 0);
  frame[4] = Opcode.GOAWAY;
  return frame;
}

/** The detail as JSON, within {@link MAX_ERROR_DETAIL_BYTES}; undefined when it cannot be sent. */
function detailJson(detail: ErrorDetail): string | undefined {
  const attempts: ErrorDetail[] = [
    detail,
    { ...detail, response: undefined },
    { ...detail, response: undefined, message: detail.message.slice(0, 1024) },
  ];
  for (const attempt of attempts) {
    let json: string;
    try {
      json = JSON.stringify(attempt);
    } catch {
      continue; // a response body with a cycle or a BigInt: try without it
    }
    if (Buffer.byteLength(json) <= MAX_ERROR_DETAIL_BYTES) return json;
  }
  return undefined;
}

/** A received detail; a malformed one is dropped (the error itself still gets through). */
function parseDetail(json: string): ErrorDetail | undefined {
  try {
    return toErrorDetail(JSON.parse(json));
  } catch {
    return undefined;
  }
}
