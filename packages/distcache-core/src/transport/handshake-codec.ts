// Pure encode/decode of the three handshake frames (HELLO, WELCOME, REFUSE) and the compatibility
// rule. The header, the magic and the version field are frozen across protocol versions, so any two
// versions can still tell each other apart and refuse cleanly.
import { invalidFrame } from '../errors/messages';
import { ByteReader } from './byte-reader';
import { FrameBuilder } from './frame-builder';
import { asBuffer, readFrameHeader, singleFrame } from './frame-header';
import type { PeerAddress } from './transport';
import {
  FRAME_HEADER_BYTES,
  MAX_MAX_FRAME_BYTES,
  MIN_MAX_FRAME_BYTES,
  Opcode,
  PROTOCOL_MAGIC,
  PROTOCOL_VERSION,
  RefuseReason,
} from './wire-format';

/** What each side announces about itself in HELLO (client) and WELCOME (server). */
export interface HandshakeHello {
  /** Largest frame (bytes after the length prefix) the sender accepts. */
  maxFrameBytes: number;
  cluster: string;
  nodeId: string;
  /** The sender's advertised peer listener; port 0 when it does not listen. */
  address: PeerAddress;
  /**
   * Names this run of the sender's process (random, fixed from start to stop). A peer that sees a
   * new incarnation at a known address knows the process restarted: its cache is empty and its
   * connections and reconnect backoff are stale (docs/protocol.md, "Handshake").
   */
  incarnation: string;
}

/** Why a peer refused the handshake. */
export interface HandshakeRefusal {
  /** The refusing peer's protocol version. */
  version: number;
  /** A {@link RefuseReason}; unknown values are kept as they came. */
  reason: number;
  message: string;
}

/** A decoded handshake frame. `hello` is `undefined` when the peer speaks another version. */
export type HandshakeFrame =
  | { kind: 'hello' | 'welcome'; version: number; hello: HandshakeHello | undefined }
  | { kind: 'refuse'; refusal: HandshakeRefusal };

/** Encodes the client's HELLO. @throws DistCacheError `E_PROTOCOL` when a string is too long */
export function encodeHelloFrame(hello: HandshakeHello, version = PROTOCOL_VERSION): Buffer {
  return encodeGreeting(Opcode.HELLO, hello, version);
}

/** Encodes the server's WELCOME. @throws DistCacheError `E_PROTOCOL` when a string is too long */
export function encodeWelcomeFrame(hello: HandshakeHello, version = PROTOCOL_VERSION): Buffer {
  return encodeGreeting(Opcode.WELCOME, hello, version);
}

/** Encodes a REFUSE frame. */
export function encodeRefuseFrame(reason: RefuseReason, message: string, version = PROTOCOL_VERSION): Buffer {
  const b = new FrameBuilder(32 + 3 * message.length);
  b.begin(Opcode.REFUSE, 0, 0);
  b.u32(PROTOCOL_MAGIC);
  b.u16(version);
  b.u8(reason);
  b.str16(message.slice(0, 16_383), 'message');
  b.finish();
  return singleFrame(b);
}

/**
 * Decodes a handshake frame (length prefix included).
 *
 * @throws DistCacheError `E_PROTOCOL` when the frame is not a well-formed handshake frame (wrong
 *   opcode, wrong magic, truncated, trailing bytes, a `maxFrameBytes` under the minimum)
 */
export function decodeHandshakeFrame(frame: Uint8Array): HandshakeFrame {
  const { opcode, id } = readFrameHeader(frame);
  const buf = asBuffer(frame);
  if (opcode !== Opcode.HELLO && opcode !== Opcode.WELCOME && opcode !== Opcode.REFUSE) {
    throw invalidFrame(`expected a handshake frame, got opcode 0x${opcode.toString(16)}`);
  }
  if (id !== 0) throw invalidFrame('handshake frames carry request id 0');
  const r = new ByteReader(buf, FRAME_HEADER_BYTES);
  if (r.u32('magic') !== PROTOCOL_MAGIC) throw invalidFrame('bad magic: not a distcache peer');
  const version = r.u16('version');
  if (opcode === Opcode.REFUSE) {
    const reason = r.u8('reason');
    const message = r.str16('message');
    if (!r.done) throw invalidFrame('trailing bytes after REFUSE');
    return { kind: 'refuse', refusal: { version, reason, message } };
  }
  const kind = opcode === Opcode.HELLO ? 'hello' : 'welcome';
  // Past the version field the layout belongs to that version; do not guess at it.
  if (version !== PROTOCOL_VERSION) return { kind, version, hello: undefined };
  const maxFrameBytes = r.u32('maxFrameBytes');
  if (maxFrameBytes < MIN_MAX_FRAME_BYTES) {
    throw invalidFrame(`maxFrameBytes ${maxFrameBytes} is under the minimum of ${MIN_MAX_FRAME_BYTES}`);
  }
  if (maxFrameBytes > MAX_MAX_FRAME_BYTES) {
    throw invalidFrame(`maxFrameBytes ${maxFrameBytes} is over the maximum of ${MAX_MAX_FRAME_BYTES}`);
  }
  const cluster = r.str16('cluster');
  const nodeId = r.str16('nodeId');
  const host = r.str16('host');
  const port = r.u16('port');
  const incarnation = r.str16('incarnation');
  if (!r.done) throw invalidFrame(`trailing bytes after ${kind.toUpperCase()}`);
  return { kind, version, hello: { maxFrameBytes, cluster, nodeId, address: { host, port }, incarnation } };
}

/**
 * The handshake rule: same protocol version, same cluster. Returns why `remote` must be refused, or
 * `undefined` when it may talk to a node of `cluster`.
 */
export function handshakeProblem(
  cluster: string,
  remote: { version: number; hello: HandshakeHello | undefined },
): { reason: RefuseReason; message: string } | undefined {
  if (remote.version !== PROTOCOL_VERSION || remote.hello === undefined) {
    return {
      reason: RefuseReason.VERSION,
      message: `protocol version ${remote.version} is not supported (this node speaks ${PROTOCOL_VERSION})`,
    };
  }
  if (remote.hello.cluster !== cluster) {
    return {
      reason: RefuseReason.CLUSTER,
      message: `node "${remote.hello.nodeId}" belongs to cluster "${remote.hello.cluster}", not "${cluster}"`,
    };
  }
  return undefined;
}

/** A short stable word for a refusal reason, used in `details.reason` and log lines. */
export function refuseReasonName(reason: number): string {
  switch (reason) {
    case RefuseReason.VERSION:
      return 'version-mismatch';
    case RefuseReason.CLUSTER:
      return 'cluster-mismatch';
    case RefuseReason.MALFORMED:
      return 'malformed-handshake';
    default:
      return `refused-${reason}`;
  }
}

function encodeGreeting(opcode: number, hello: HandshakeHello, version: number): Buffer {
  const b = new FrameBuilder(
    64 +
      3 * (hello.cluster.length + hello.nodeId.length + hello.address.host.length + hello.incarnation.length),
  );
  b.begin(opcode, 0, 0);
  b.u32(PROTOCOL_MAGIC);
  b.u16(version);
  b.u32(hello.maxFrameBytes);
  b.str16(hello.cluster, 'cluster');
  b.str16(hello.nodeId, 'nodeId');
  b.str16(hello.address.host, 'host');
  b.u16(hello.address.port);
  b.str16(hello.incarnation, 'incarnation');
  b.finish();
  return singleFrame(b);
}
