// Pure encode/decode of request and response frames (no sockets, no state), so they can be unit
// tested and fuzzed on their own. The layout is specified in docs/protocol.md.
import { ERROR_CODES, type DistCacheErrorCode } from '../errors/error-codes';
import { invalidFrame } from '../errors/messages';
import { ByteReader } from './byte-reader';
import { FrameBuilder } from './frame-builder';
import {
  MAX_META_ENTRIES,
  type PeerRequest,
  type PeerRequestMeta,
  type PeerResponse,
  type ValueResult,
} from './transport';
import { FRAME_HEADER_BYTES, FrameFlag, LENGTH_PREFIX_BYTES, Opcode } from './wire-format';

/** The fixed header every frame starts with. */
export interface FrameHeader {
  /** Bytes after the length prefix (header rest plus body). */
  length: number;
  opcode: number;
  flags: number;
  /** Request id; 0 in handshake frames. */
  id: number;
}

/** A decoded request frame. */
export interface RequestFrame {
  id: number;
  request: PeerRequest;
  meta: PeerRequestMeta;
}

/** A decoded response frame. */
export interface ResponseFrame {
  id: number;
  response: PeerResponse;
}

const NO_META: PeerRequestMeta = Object.freeze({});
const KNOWN_CODES: ReadonlySet<string> = new Set(Object.keys(ERROR_CODES));
// Longest error message sent: 16 383 UTF-16 units can never exceed the u16 byte limit.
const MAX_ERROR_MESSAGE_CHARS = 16_383;

/**
 * Reads the fixed header of a frame.
 *
 * @throws DistCacheError `E_PROTOCOL` when `frame` is shorter than the header or its length prefix
 *   does not match its size
 */
export function readFrameHeader(frame: Uint8Array): FrameHeader {
  const buf = asBuffer(frame);
  if (buf.length < FRAME_HEADER_BYTES)
    throw invalidFrame(`frame of ${buf.length} bytes is shorter than the header`);
  const length = buf.readUInt32BE(0);
  if (length !== buf.length - LENGTH_PREFIX_BYTES) {
    throw invalidFrame(
      `length prefix ${length} does not match the ${buf.length - LENGTH_PREFIX_BYTES} bytes that follow`,
    );
  }
  return { length, opcode: buf[4] as number, flags: buf[5] as number, id: buf.readUInt32BE(6) };
}

/**
 * Encodes a request frame into its own buffer.
 *
 * @throws DistCacheError `E_PROTOCOL` when a field cannot be represented (string over its length
 *   limit, `expiresAt` not a safe non-negative integer, more than {@link MAX_META_ENTRIES} meta entries)
 */
export function encodeRequestFrame(id: number, request: PeerRequest, meta?: PeerRequestMeta): Buffer {
  const b = new FrameBuilder(estimateRequest(request));
  writeRequestFrame(b, id, request, meta);
  return single(b);
}

/**
 * Encodes a response frame into its own buffer.
 *
 * @throws DistCacheError `E_PROTOCOL` when a field cannot be represented
 */
export function encodeResponseFrame(id: number, response: PeerResponse): Buffer {
  const b = new FrameBuilder(64);
  writeResponseFrame(b, id, response);
  return single(b);
}

/**
 * Appends a request frame to `b` and returns its size (length prefix included). On a throw the
 * partial frame is still in `b`: call `b.rollback()`.
 *
 * @throws DistCacheError `E_PROTOCOL` like {@link encodeRequestFrame}
 */
export function writeRequestFrame(b: FrameBuilder, id: number, request: PeerRequest, meta?: PeerRequestMeta): number {
  const forwarded = (request.op === 'get' || request.op === 'getMany') && request.forwarded ? FrameFlag.FORWARDED : 0;
  b.begin(requestOpcode(request), forwarded, id, estimateRequest(request));
  if (meta !== undefined && writeMeta(b, meta)) b.addFlags(FrameFlag.META);
  switch (request.op) {
    case 'get':
    case 'delete':
      b.str16(request.keySpace, 'keySpace');
      b.str32(request.key, 'key');
      break;
    case 'getMany':
    case 'deleteMany':
    case 'invalidate':
      b.str16(request.keySpace, 'keySpace');
      b.u32(request.keys.length);
      for (const key of request.keys) b.str32(key, 'key');
      break;
    case 'set':
      b.str16(request.keySpace, 'keySpace');
      b.str32(request.key, 'key');
      b.u64(request.expiresAt, 'expiresAt');
      b.bytes32(request.value, 'value');
      break;
    case 'dropKeySpace':
      b.str16(request.keySpace, 'keySpace');
      break;
    case 'ping':
    case 'leave':
      break;
  }
  return b.finish();
}

/**
 * Appends a response frame to `b` and returns its size (length prefix included). On a throw the
 * partial frame is still in `b`: call `b.rollback()`.
 *
 * @throws DistCacheError `E_PROTOCOL` like {@link encodeResponseFrame}
 */
export function writeResponseFrame(b: FrameBuilder, id: number, response: PeerResponse): number {
  switch (response.op) {
    case 'value':
      b.begin(Opcode.VALUE, 0, id, FRAME_HEADER_BYTES + resultSize(response.result));
      writeResult(b, response.result);
      break;
    case 'values': {
      let size = FRAME_HEADER_BYTES + 4;
      for (const result of response.results) size += resultSize(result);
      b.begin(Opcode.VALUES, 0, id, size);
      b.u32(response.results.length);
      for (const result of response.results) writeResult(b, result);
      break;
    }
    case 'ok':
      b.begin(Opcode.OK, 0, id, FRAME_HEADER_BYTES);
      break;
    case 'pong':
      b.begin(Opcode.PONG, 0, id, FRAME_HEADER_BYTES + 2 + 3 * response.nodeId.length);
      b.str16(response.nodeId, 'nodeId');
      break;
    case 'error':
      b.begin(Opcode.ERROR, 0, id, 128);
      b.str16(response.code, 'code');
      b.str16(String(response.message).slice(0, MAX_ERROR_MESSAGE_CHARS), 'message');
      break;
    default:
      throw invalidFrame(`unknown response op ${JSON.stringify((response as { op: unknown }).op)}`);
  }
  return b.finish();
}

/**
 * Decodes a request frame (length prefix included).
 *
 * @throws DistCacheError `E_PROTOCOL` when the frame is not a well-formed request
 */
export function decodeRequestFrame(frame: Uint8Array): RequestFrame {
  const buf = asBuffer(frame);
  const { opcode, flags, id } = readFrameHeader(buf);
  const r = new ByteReader(buf, FRAME_HEADER_BYTES);
  const meta = (flags & FrameFlag.META) !== 0 ? readMeta(r) : NO_META;
  const forwarded = (flags & FrameFlag.FORWARDED) !== 0;
  let request: PeerRequest;
  switch (opcode) {
    case Opcode.GET:
      request = { op: 'get', keySpace: r.str16('keySpace'), key: r.str32('key'), forwarded };
      break;
    case Opcode.DELETE:
      request = { op: 'delete', keySpace: r.str16('keySpace'), key: r.str32('key') };
      break;
    case Opcode.GET_MANY:
      request = { op: 'getMany', keySpace: r.str16('keySpace'), keys: readKeys(r), forwarded };
      break;
    case Opcode.DELETE_MANY:
      request = { op: 'deleteMany', keySpace: r.str16('keySpace'), keys: readKeys(r) };
      break;
    case Opcode.INVALIDATE:
      request = { op: 'invalidate', keySpace: r.str16('keySpace'), keys: readKeys(r) };
      break;
    case Opcode.SET: {
      const keySpace = r.str16('keySpace');
      const key = r.str32('key');
      const expiresAt = r.u64('expiresAt');
      request = { op: 'set', keySpace, key, value: r.bytes32('value'), expiresAt };
      break;
    }
    case Opcode.DROP_KEYSPACE:
      request = { op: 'dropKeySpace', keySpace: r.str16('keySpace') };
      break;
    case Opcode.PING:
      request = { op: 'ping' };
      break;
    case Opcode.LEAVE:
      request = { op: 'leave' };
      break;
    default:
      throw invalidFrame(`opcode 0x${opcode.toString(16)} is not a request`);
  }
  if (!r.done) throw invalidFrame(`trailing bytes after a ${request.op} request`);
  return { id, request, meta };
}

/**
 * Decodes a response frame (length prefix included). An error code this version does not know is
 * reported as `E_PEER_UNAVAILABLE`, with the original code kept at the start of the message.
 *
 * @throws DistCacheError `E_PROTOCOL` when the frame is not a well-formed response
 */
export function decodeResponseFrame(frame: Uint8Array): ResponseFrame {
  const buf = asBuffer(frame);
  const { opcode, id } = readFrameHeader(buf);
  const r = new ByteReader(buf, FRAME_HEADER_BYTES);
  let response: PeerResponse;
  switch (opcode) {
    case Opcode.VALUE:
      response = { op: 'value', result: readResult(r) };
      break;
    case Opcode.VALUES: {
      const count = r.count('results', 9);
      const results = new Array<ValueResult>(count);
      for (let i = 0; i < count; i++) results[i] = readResult(r);
      response = { op: 'values', results };
      break;
    }
    case Opcode.OK:
      response = { op: 'ok' };
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
      break;
    }
    default:
      throw invalidFrame(`opcode 0x${opcode.toString(16)} is not a response`);
  }
  if (!r.done) throw invalidFrame(`trailing bytes after a ${response.op} response`);
  return { id, response };
}

/** True when the opcode is a request opcode (0x01-0x3f). */
export function isRequestOpcode(opcode: number): boolean {
  return opcode >= 0x01 && opcode <= 0x3f;
}

/** True when the opcode is a response opcode (0x81-0xbf). */
export function isResponseOpcode(opcode: number): boolean {
  return opcode >= 0x81 && opcode <= 0xbf;
}

function requestOpcode(request: PeerRequest): number {
  switch (request.op) {
    case 'get':
      return Opcode.GET;
    case 'getMany':
      return Opcode.GET_MANY;
    case 'set':
      return Opcode.SET;
    case 'delete':
      return Opcode.DELETE;
    case 'deleteMany':
      return Opcode.DELETE_MANY;
    case 'invalidate':
      return Opcode.INVALIDATE;
    case 'dropKeySpace':
      return Opcode.DROP_KEYSPACE;
    case 'ping':
      return Opcode.PING;
    case 'leave':
      return Opcode.LEAVE;
    default:
      throw invalidFrame(`unknown request op ${JSON.stringify((request as { op: unknown }).op)}`);
  }
}

/** An upper bound of the frame size for ASCII strings, so the builder rarely has to grow. */
function estimateRequest(request: PeerRequest): number {
  switch (request.op) {
    case 'get':
    case 'delete':
      return FRAME_HEADER_BYTES + 6 + 3 * (request.keySpace.length + request.key.length);
    case 'set':
      return FRAME_HEADER_BYTES + 18 + 3 * (request.keySpace.length + request.key.length) + request.value.byteLength;
    case 'getMany':
    case 'deleteMany':
    case 'invalidate':
      return FRAME_HEADER_BYTES + 6 + 3 * request.keySpace.length + request.keys.length * 40;
    default:
      return FRAME_HEADER_BYTES + 2 + (request.op === 'dropKeySpace' ? 3 * request.keySpace.length : 0);
  }
}

function resultSize(result: ValueResult): number {
  return result.found ? 13 + result.value.byteLength : 9;
}

function writeResult(b: FrameBuilder, result: ValueResult): void {
  b.u8(result.found ? 1 : 0);
  b.u64(result.expiresAt, 'expiresAt');
  if (result.found) b.bytes32(result.value, 'value');
}

function readResult(r: ByteReader): ValueResult {
  const found = r.u8('found');
  const expiresAt = r.u64('expiresAt');
  if (found === 0) return { found: false, expiresAt };
  if (found !== 1) throw invalidFrame(`found byte must be 0 or 1, got ${found}`);
  return { found: true, value: r.bytes32('value'), expiresAt };
}

function readKeys(r: ByteReader): string[] {
  const count = r.count('keys', 4);
  const keys = new Array<string>(count);
  for (let i = 0; i < count; i++) keys[i] = r.str32('key');
  return keys;
}

/** Writes the meta map; returns false (and writes nothing) when it is empty. */
function writeMeta(b: FrameBuilder, meta: PeerRequestMeta): boolean {
  const names = Object.keys(meta);
  if (names.length === 0) return false;
  if (names.length > MAX_META_ENTRIES) {
    throw invalidFrame(`meta has ${names.length} entries, over the limit of ${MAX_META_ENTRIES}`);
  }
  b.u8(names.length);
  for (const name of names) {
    b.str16(name, 'meta name');
    b.str16(meta[name] as string, `meta "${name}"`);
  }
  return true;
}

function readMeta(r: ByteReader): PeerRequestMeta {
  const count = r.u8('meta count');
  if (count > MAX_META_ENTRIES)
    throw invalidFrame(`meta has ${count} entries, over the limit of ${MAX_META_ENTRIES}`);
  // No prototype: a name like "__proto__" from the wire stays a plain entry.
  const meta = Object.create(null) as Record<string, string>;
  for (let i = 0; i < count; i++) {
    const name = r.str16('meta name');
    meta[name] = r.str16('meta value');
  }
  return Object.freeze(meta);
}

/** The one frame a fresh builder holds. */
function single(b: FrameBuilder): Buffer {
  return b.take()[0] as Buffer;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
