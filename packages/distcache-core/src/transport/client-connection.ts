import type { Socket } from 'node:net';
import { type DistCacheError } from '../errors/distcache-error';
import { peerProtocolError, peerUnavailable } from '../errors/messages';
import { setDeadline, type TimerHandle } from '../util/clock';
import { isResponseOpcode } from './frame-header';
import { writeRequestFrame } from './request-codec';
import { FrameReader } from './frame-reader';
import { FrameWriter } from './frame-writer';
import {
  decodeHandshakeFrame,
  encodeHelloFrame,
  type HandshakeFrame,
  type HandshakeHello,
  handshakeProblem,
  refuseReasonName,
} from './handshake-codec';
import type { LogThrottle } from '../util/log-throttle';
import type { PeerSocketFactory } from './socket-factory';
import type { PeerAddress, PeerRequest, PeerRequestMeta } from './transport';
import type { ResolvedTransportOptions } from './transport-options';
import {
  HANDSHAKE_MAX_FRAME_BYTES,
  LENGTH_PREFIX_BYTES,
  Opcode,
  PROTOCOL_VERSION,
  RefuseReason,
} from './wire-format';

/** What a client connection reports to its owner once it is open. */
export interface ClientConnectionEvents {
  /** A response frame arrived (length prefix included; a view of the read buffer). */
  onResponse(frame: Buffer): void;
  /** The connection is gone; called once. */
  onClose(error: DistCacheError): void;
  /** The server sent GOAWAY: it will close this idle connection; new requests go elsewhere. */
  onGoAway(): void;
}

/** What opening a client connection needs. */
export interface ClientConnectionParams {
  peer: PeerAddress;
  peerId: string;
  options: ResolvedTransportOptions;
  factory: PeerSocketFactory;
  /** What this node announces in HELLO. */
  hello: HandshakeHello;
  events: ClientConnectionEvents;
  /** Aborting gives up the attempt (the transport is closing). */
  signal: AbortSignal;
  /** Where refused handshakes are reported, rate-limited. */
  refusals: LogThrottle;
}

/**
 * One outgoing connection to a peer: connect, HELLO / WELCOME, then response frames to the owner.
 * It knows nothing of requests; the peer client keeps those.
 */
export class ClientConnection {
  private handshake:
    | { resolve: () => void; reject: (error: DistCacheError) => void; timer: TimerHandle; detach: () => void }
    | undefined;
  private closed = false;
  private socketError: Error | undefined;
  private readonly reader: FrameReader;
  private readonly writer: FrameWriter;
  /** The server's WELCOME, once the handshake is done. */
  remote: HandshakeHello | undefined;
  /** Clock time of the last bytes received; 0 when none. */
  lastReceivedAt = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly params: ClientConnectionParams,
  ) {
    this.reader = new FrameReader(
      HANDSHAKE_MAX_FRAME_BYTES,
      (frame) => this.onFrame(frame),
      (error) => this.fail(peerProtocolError(params.peerId, 'invalid-frame', error.message, error)),
    );
    this.writer = new FrameWriter(socket);
    socket.on('data', (chunk: Buffer) => {
      this.lastReceivedAt = params.options.clock.now();
      this.reader.push(chunk);
    });
    socket.on('error', (error) => (this.socketError = error));
    socket.on('close', () =>
      this.fail(
        peerUnavailable(params.peerId, 'connection-lost', 'the connection was closed', this.socketError),
      ),
    );
  }

  /**
   * Connects and completes the handshake.
   *
   * @throws DistCacheError `E_PEER_UNAVAILABLE` (connect failed, closed or timed out during the
   *   handshake), `E_PROTOCOL` (refused: other cluster or version, or a malformed reply)
   */
  static async open(params: ClientConnectionParams): Promise<ClientConnection> {
    const { options, factory, peer, signal } = params;
    const socket = await factory.connect(peer, options.connectTimeoutMs, options.clock, signal);
    const connection = new ClientConnection(socket, params);
    await connection.shake();
    return connection;
  }

  /** Largest frame (after the length prefix) the server accepts, from its WELCOME. */
  get sendLimit(): number {
    return this.remote?.maxFrameBytes ?? HANDSHAKE_MAX_FRAME_BYTES;
  }

  /**
   * Encodes a request straight into the connection's write arena; requests sent in one tick go out
   * in one write at its end, or at once with `now` (with the requests queued before it).
   *
   * @throws DistCacheError `E_PROTOCOL` when the request cannot be encoded or is over the server's
   *   `maxFrameBytes` (nothing is sent then)
   */
  sendRequest(id: number, request: PeerRequest, meta: PeerRequestMeta | undefined, now = false): void {
    const builder = this.writer.builder;
    let size: number;
    try {
      size = writeRequestFrame(builder, id, request, meta);
    } catch (error) {
      builder.rollback();
      throw error;
    }
    if (size - LENGTH_PREFIX_BYTES > this.sendLimit) {
      builder.discardLast(size);
      throw peerProtocolError(
        this.params.peerId,
        'frame-too-large',
        `a request of ${size - LENGTH_PREFIX_BYTES} bytes is over the peer's limit of ${this.sendLimit}`,
      );
    }
    if (now) this.writer.flush();
    else this.writer.commit();
  }

  /** Closes the connection; `onClose` is called with `error` unless it was already closed. */
  close(error: DistCacheError): void {
    this.fail(error);
  }

  private shake(): Promise<void> {
    const { clock, handshakeTimeoutMs } = this.params.options;
    return new Promise<void>((resolve, reject) => {
      const timer = setDeadline(clock, handshakeTimeoutMs, () => {
        if (this.handshake === undefined) return;
        this.fail(
          peerUnavailable(
            this.params.peerId,
            'handshake-timeout',
            `no handshake reply within ${handshakeTimeoutMs}ms`,
          ),
        );
      });
      const { signal } = this.params;
      const onAbort = (): void =>
        this.fail(peerUnavailable(this.params.peerId, 'transport-closed', 'the transport was closed'));
      const detach = (): void => signal.removeEventListener('abort', onAbort);
      this.handshake = { resolve, reject, timer, detach };
      if (signal.aborted) return onAbort();
      if (this.socket.destroyed) {
        return this.fail(
          peerUnavailable(
            this.params.peerId,
            'connection-lost',
            'the connection was closed',
            this.socketError,
          ),
        );
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.writer.write(encodeHelloFrame(this.params.hello));
    });
  }

  private onFrame(frame: Buffer): void {
    if (this.handshake === undefined) {
      if (frame[4] === Opcode.GOAWAY) return this.params.events.onGoAway();
      if (isResponseOpcode(frame[4] ?? 0)) return this.params.events.onResponse(frame);
      return this.fail(
        peerProtocolError(
          this.params.peerId,
          'unexpected-frame',
          `opcode 0x${(frame[4] ?? 0).toString(16)} is not a response`,
        ),
      );
    }
    const { peerId, options } = this.params;
    let decoded: HandshakeFrame;
    try {
      decoded = decodeHandshakeFrame(frame);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return this.fail(
        peerProtocolError(peerId, 'malformed-handshake', `bad handshake reply: ${message}`, error),
      );
    }
    if (decoded.kind === 'refuse') {
      const { reason, version, message } = decoded.refusal;
      const name = refuseReasonName(reason);
      // The REFUSE body is frozen across versions, so its version field is the peer's own whatever
      // it speaks; naming both here does not depend on what the peer's message text says.
      const said =
        reason === RefuseReason.VERSION
          ? `the peer speaks protocol version ${version}, this node speaks ${PROTOCOL_VERSION}: ${message}`
          : message;
      // Every reconnect attempt would repeat it: once a minute per peer and reason.
      this.params.refusals.warn(
        `${peerId}:${name}`,
        `peer ${peerId} refused our handshake (${name}): ${said}`,
        {
          peer: peerId,
          reason: name,
        },
      );
      return this.fail(peerProtocolError(peerId, name, `the peer refused the handshake: ${said}`));
    }
    if (decoded.kind !== 'welcome') {
      return this.fail(peerProtocolError(peerId, 'malformed-handshake', 'expected WELCOME, got HELLO'));
    }
    const problem = handshakeProblem(options.cluster, decoded);
    if (problem !== undefined) {
      const name = refuseReasonName(problem.reason);
      options.logger.warn(`refusing peer ${peerId} (${name}): ${problem.message}`, {
        peer: peerId,
        reason: name,
      });
      return this.fail(peerProtocolError(peerId, name, `cannot talk to the peer: ${problem.message}`));
    }
    this.remote = decoded.hello;
    this.reader.setLimit(options.maxFrameBytes);
    const { resolve, timer, detach } = this.handshake;
    this.handshake = undefined;
    options.clock.clearTimeout(timer);
    detach();
    resolve();
  }

  private fail(error: DistCacheError): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.stop();
    this.writer.close();
    this.socket.destroy();
    const handshake = this.handshake;
    if (handshake !== undefined) {
      this.handshake = undefined;
      this.params.options.clock.clearTimeout(handshake.timer);
      handshake.detach();
      handshake.reject(error);
    } else {
      this.params.events.onClose(error);
    }
  }
}
