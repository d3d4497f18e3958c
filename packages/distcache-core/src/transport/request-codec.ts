// Pure encode/decode of request frames (no sockets, no state), so they can be unit tested and
// fuzzed on their own. The layout is specified in docs/protocol.md.
import { invalidFrame } from '../errors/messages';
import { ByteReader } from './byte-reader';
import { FrameBuilder } from './frame-builder';
import { asBuffer, checkFrameLength, singleFrame } from './frame-header';
import { MAX_GET_MANY_KEYS, MAX_META_ENTRIES, type PeerRequest, type PeerRequestMeta } from './transport';
import { FRAME_HEADER_BYTES, FrameFlag, Opcode } from './wire-format';

/** A decoded request frame. */
export interface RequestFrame {
  id: number;
  request: PeerRequest;
  meta: PeerRequestMeta;
}

const NO_META: PeerRequestMeta = Object.freeze({});

/**
 * Encodes a request frame into its own buffer.
 *
 * @throws DistCacheError `E_PROTOCOL` when a field cannot be represented (string over its length
 *   limit, `expiresAt` not a safe non-negative integer, more than {@link MAX_META_ENTRIES} meta entries)
 */
export function encodeRequestFrame(id: number, request: PeerRequest, meta?: PeerRequestMeta): Buffer {
  const b = new FrameBuilder(estimateRequest(request));
  writeRequestFrame(b, id, request, meta);
  return singleFrame(b);
}

/**
 * Appends a request frame to `b` and returns its size (length prefix included). On a throw the
 * partial frame is still in `b`: call `b.rollback()`.
 *
 * @throws DistCacheError `E_PROTOCOL` like {@link encodeRequestFrame}
 */
export function writeRequestFrame(
  b: FrameBuilder,
  id: number,
  request: PeerRequest,
  meta?: PeerRequestMeta,
): number {
  const forwarded =
    (request.op === 'get' || request.op === 'getMany') && request.forwarded ? FrameFlag.FORWARDED : 0;
  const ifAbsent = request.op === 'set' && request.ifAbsent === true ? FrameFlag.IF_ABSENT : 0;
  const extended =
    'extendedReply' in request && request.extendedReply === true ? FrameFlag.EXTENDED_REPLY : 0;
  // A reader asks for tagged values; a SET says when tags follow its value.
  const tagged =
    ((request.op === 'get' || request.op === 'getMany') && request.tagsReply === true) ||
    (request.op === 'set' && hasTags(request.tags))
      ? FrameFlag.TAGS
      : 0;
  const again = request.op === 'invalidateTags' && request.again === true ? FrameFlag.AGAIN : 0;
  const keyErrors = request.op === 'getMany' && request.keyErrors === true ? FrameFlag.KEY_ERRORS : 0;
  const partial = request.op === 'getMany' && request.partial === true ? FrameFlag.PARTIAL : 0;
  const flags = forwarded | ifAbsent | extended | tagged | again | keyErrors | partial;
  b.begin(requestOpcode(request), flags, id, estimateRequest(request));
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
      b.u64(request.notAfter ?? 0, 'notAfter');
      b.bytes32(request.value, 'value');
      if (tagged !== 0) writeTags(b, request.tags as readonly string[]);
      break;
    case 'invalidateTags':
      b.str16(request.keySpace, 'keySpace');
      writeTags(b, request.tags);
      break;
    case 'dropKeySpace':
    case 'clearKeySpace':
      b.str16(request.keySpace, 'keySpace');
      break;
    case 'probe':
      b.str16(request.host, 'host');
      b.u16(request.port);
      break;
    case 'ping':
    case 'leave':
    case 'sync':
      break;
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
  checkFrameLength(buf);
  const opcode = buf[4] as number;
  const flags = buf[5] as number;
  const id = buf.readUInt32BE(6);
  const r = new ByteReader(buf, FRAME_HEADER_BYTES);
  const meta = (flags & FrameFlag.META) !== 0 ? readMeta(r) : NO_META;
  const forwarded = (flags & FrameFlag.FORWARDED) !== 0;
  const extended = (flags & FrameFlag.EXTENDED_REPLY) !== 0;
  let request: PeerRequest;
  switch (opcode) {
    case Opcode.GET:
      request = { op: 'get', keySpace: r.str16('keySpace'), key: r.str32('key'), forwarded };
      break;
    case Opcode.DELETE:
      request = { op: 'delete', keySpace: r.str16('keySpace'), key: r.str32('key') };
      break;
    case Opcode.GET_MANY:
      request = {
        op: 'getMany',
        keySpace: r.str16('keySpace'),
        keys: readKeys(r, MAX_GET_MANY_KEYS, 'GET_MANY'),
        forwarded,
      };
      if ((flags & FrameFlag.KEY_ERRORS) !== 0) request.keyErrors = true;
      if ((flags & FrameFlag.PARTIAL) !== 0) request.partial = true;
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
      const notAfter = r.u64('notAfter');
      request = { op: 'set', keySpace, key, value: r.bytes32('value'), expiresAt };
      if ((flags & FrameFlag.TAGS) !== 0) request.tags = readTags(r);
      if ((flags & FrameFlag.IF_ABSENT) !== 0) request.ifAbsent = true;
      if (notAfter !== 0) request.notAfter = notAfter;
      break;
    }
    case Opcode.INVALIDATE_TAGS:
      request = { op: 'invalidateTags', keySpace: r.str16('keySpace'), tags: readTags(r) };
      if ((flags & FrameFlag.AGAIN) !== 0) request.again = true;
      break;
    case Opcode.DROP_KEYSPACE:
      request = { op: 'dropKeySpace', keySpace: r.str16('keySpace') };
      break;
    case Opcode.CLEAR_KEYSPACE:
      request = { op: 'clearKeySpace', keySpace: r.str16('keySpace') };
      break;
    case Opcode.PING:
      request = { op: 'ping' };
      break;
    case Opcode.LEAVE:
      request = { op: 'leave' };
      break;
    case Opcode.SYNC:
      request = { op: 'sync' };
      break;
    case Opcode.PROBE:
      request = { op: 'probe', host: r.str16('host'), port: r.u16('port') };
      break;
    default:
      throw invalidFrame(`opcode 0x${opcode.toString(16)} is not a request`);
  }
  if (!r.done) throw invalidFrame(`trailing bytes after a ${request.op} request`);
  if ((flags & FrameFlag.TAGS) !== 0 && (request.op === 'get' || request.op === 'getMany'))
    request.tagsReply = true;
  if (
    extended &&
    (request.op === 'get' ||
      request.op === 'getMany' ||
      request.op === 'delete' ||
      request.op === 'deleteMany')
  )
    request.extendedReply = true;
  return { id, request, meta };
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
    case 'probe':
      return Opcode.PROBE;
    case 'clearKeySpace':
      return Opcode.CLEAR_KEYSPACE;
    case 'sync':
      return Opcode.SYNC;
    case 'invalidateTags':
      return Opcode.INVALIDATE_TAGS;
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
      return (
        FRAME_HEADER_BYTES +
        26 +
        3 * (request.keySpace.length + request.key.length) +
        request.value.byteLength +
        tagsSize(request.tags)
      );
    case 'invalidateTags':
      return FRAME_HEADER_BYTES + 2 + 3 * request.keySpace.length + tagsSize(request.tags);
    case 'getMany':
    case 'deleteMany':
    case 'invalidate':
      return FRAME_HEADER_BYTES + 6 + 3 * request.keySpace.length + request.keys.length * 40;
    case 'dropKeySpace':
    case 'clearKeySpace':
      return FRAME_HEADER_BYTES + 2 + 3 * request.keySpace.length;
    case 'probe':
      return FRAME_HEADER_BYTES + 4 + 3 * request.host.length;
    default:
      return FRAME_HEADER_BYTES + 2;
  }
}

function hasTags(tags: readonly string[] | undefined): boolean {
  return tags !== undefined && tags.length > 0;
}

/** Tags on the wire: u16 count, then each as str16 (see docs/protocol.md, "Tags"). */
export function writeTags(b: FrameBuilder, tags: readonly string[]): void {
  b.u16(tags.length);
  for (const tag of tags) b.str16(tag, 'tag');
}

export function readTags(r: ByteReader): string[] {
  // At most 65 535 (u16); each str16 read fails on a truncated frame.
  const count = r.u16('tags');
  const tags: string[] = [];
  for (let i = 0; i < count; i++) tags.push(r.str16('tag'));
  return tags;
}

/** Upper bound of the bytes of a tag list. */
export function tagsSize(tags: readonly string[] | undefined): number {
  let size = 2;
  for (const tag of tags ?? []) size += 2 + 3 * tag.length;
  return size;
}

function readKeys(r: ByteReader, max = Infinity, what = ''): string[] {
  const count = r.count('keys', 4);
  if (count > max) throw invalidFrame(`${what} of ${count} keys, over the limit of ${max}`);
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
