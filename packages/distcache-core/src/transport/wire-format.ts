// Constants of the peer wire protocol. docs/protocol.md is the specification; keep both in step.

/**
 * Version of the peer wire protocol. Peers speak only when their versions are equal; any change a
 * peer of the previous version could misread bumps it (see docs/protocol.md, "Versioning").
 */
export const PROTOCOL_VERSION = 3;

/** First four bytes of every handshake body: ASCII `DCAC`. Never changes. */
export const PROTOCOL_MAGIC = 0x44_43_41_43;

/** Bytes of the fixed frame header: u32 length, u8 opcode, u8 flags, u32 request id. */
export const FRAME_HEADER_BYTES = 10;

/** Bytes of the length prefix; the length counts the bytes after it. */
export const LENGTH_PREFIX_BYTES = 4;

/**
 * Frame-size limit before the handshake completes: a stranger cannot make a node buffer more than
 * this, whatever `maxFrameBytes` says.
 */
export const HANDSHAKE_MAX_FRAME_BYTES = 64 * 1024;

/** Largest integer an u64 field may carry (the largest safe JavaScript integer). */
export const MAX_U64_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * An epoch-ms instant as a frame may carry it: one past {@link MAX_U64_SAFE} (a caller's
 * `timeout` or a `ttl` of 2^53 ms and more, accepted as durations) is sent as that maximum, some
 * 285,000 years away, instead of failing the request with E_PROTOCOL. Callers apply it; the
 * codec itself stays strict.
 */
export function wireInstant(ms: number): number {
  return ms > MAX_U64_SAFE ? MAX_U64_SAFE : ms;
}

/** Frame opcodes. Requests are 0x01-0x3f, responses 0x81-0xbf, handshake frames 0xf0-0xff. */
export const Opcode = {
  GET: 0x01,
  GET_MANY: 0x02,
  SET: 0x03,
  DELETE: 0x04,
  DELETE_MANY: 0x05,
  INVALIDATE: 0x06,
  DROP_KEYSPACE: 0x07,
  PING: 0x08,
  LEAVE: 0x09,
  CLEAR_KEYSPACE: 0x0a,
  PROBE: 0x0b,
  SYNC: 0x0c,
  INVALIDATE_TAGS: 0x0d,
  VALUE: 0x81,
  VALUES: 0x82,
  OK: 0x83,
  PONG: 0x84,
  ERROR: 0x85,
  /** Server to client, id 0: "this connection is idle and will close; send new requests elsewhere". */
  GOAWAY: 0x86,
  HELLO: 0xf0,
  WELCOME: 0xf1,
  REFUSE: 0xf2,
} as const;

/** A frame opcode, see {@link Opcode}. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Bits of the frame header's flags byte. Senders leave other bits zero; receivers ignore them. */
export const FrameFlag = {
  /** GET / GET_MANY: the request came from a peer and must not be forwarded again. */
  FORWARDED: 0x01,
  /** SET: store only if the receiver holds no fresh entry for the key (ownership hand-off). */
  IF_ABSENT: 0x02,
  /**
   * GET / GET_MANY / DELETE / DELETE_MANY: the sender reads extended responses (an ERROR with a
   * detail block, an OK with a removed count). Older receivers ignore it and answer plainly.
   */
  EXTENDED_REPLY: 0x04,
  /**
   * GET / GET_MANY: the sender reads tagged values (found byte 2, see docs/protocol.md). SET: a tag
   * list follows the value. Older receivers ignore it on GET and refuse a tagged SET (`E_PROTOCOL`).
   */
  TAGS: 0x08,
  /** INVALIDATE_TAGS: the second round of one `deleteByTags` (the receiver does not count it). */
  AGAIN: 0x10,
  /**
   * GET_MANY: the sender reads a failed key as a result of its own (an extended VALUES) instead of
   * one ERROR for the whole request. Older receivers ignore it.
   */
  KEY_ERRORS: 0x20,
  /**
   * GET_MANY with KEY_ERRORS: answer the keys held now and mark the ones still loading pending
   * (found byte 4) instead of holding the whole answer for the slowest load. Older receivers ignore
   * it and answer once every key settled.
   */
  PARTIAL: 0x40,
  /** Any request: a meta map follows the header. */
  META: 0x80,
} as const;

/** Bits of a response frame's flags byte; set only in answer to a request with EXTENDED_REPLY. */
export const ResponseFlag = {
  /**
   * ERROR: a `str32` JSON detail follows the message. OK: a `u32` removed count is the body.
   * VALUES: a result may be a key error (found byte 3), in answer to KEY_ERRORS.
   */
  EXTENDED: 0x01,
} as const;

/** Why a handshake was refused (the REFUSE frame's reason byte). */
export const RefuseReason = {
  /** The peers' protocol versions differ. */
  VERSION: 1,
  /** The peers belong to different clusters. */
  CLUSTER: 2,
  /** The first frame was not a valid HELLO. */
  MALFORMED: 3,
} as const;

/** A refusal reason code, see {@link RefuseReason}. */
export type RefuseReason = (typeof RefuseReason)[keyof typeof RefuseReason];

/** Smallest `maxFrameBytes` a node may announce (and configure). */
export const MIN_MAX_FRAME_BYTES = 1024;

/**
 * Largest `maxFrameBytes` a node may announce (and configure), 1 GiB: the length prefix is an u32,
 * but buffers are not free, and a server sizes its answers by what the requester announced.
 */
export const MAX_MAX_FRAME_BYTES = 1024 * 1024 * 1024;
