import type { Socket } from 'node:net';
import { failureAnswer } from '../errors/remote-error';
import { peerUnavailable } from '../errors/messages';
import { setDeadline, type TimerHandle } from '../util/clock';
import { isRequestOpcode } from './frame-header';
import { decodeRequestFrame, type RequestFrame } from './request-codec';
import { encodeGoAwayFrame, responseSizeAtLeast, writeResponseFrame } from './response-codec';
import type { BufferBudget } from './buffer-budget';
import { FrameReader } from './frame-reader';
import type { LogThrottle } from '../util/log-throttle';
import { FrameWriter } from './frame-writer';
import {
  decodeHandshakeFrame,
  encodeRefuseFrame,
  encodeWelcomeFrame,
  type HandshakeFrame,
  type HandshakeHello,
  handshakeProblem,
  refuseReasonName,
} from './handshake-codec';
import type { PeerIdentity, PeerReply, PeerRequestHandler, PeerResponse } from './transport';
import type { ResolvedTransportOptions } from './transport-options';
import { HANDSHAKE_MAX_FRAME_BYTES, LENGTH_PREFIX_BYTES, RefuseReason } from './wire-format';

/** What every connection of one listener shares. */
export interface ServerConnectionContext {
  readonly options: ResolvedTransportOptions;
  readonly handler: PeerRequestHandler;
  /** Called once a HELLO is accepted, with who sent it; returns this node's WELCOME. */
  readonly welcome: (from: PeerIdentity) => HandshakeHello;
  readonly onClosed: (connection: ServerConnection) => void;
  /** Bytes of frames being received, shared by all connections (`maxBufferedBytes`). */
  readonly budget: BufferBudget;
  /** Warnings about misbehaving connections, rate-limited. */
  readonly log: LogThrottle;
}

/** Lifecycle of an accepted connection. */
type ServerConnectionState =
  | { kind: 'handshaking'; timer: TimerHandle }
  /** `goingAwaySince`: clock time a GOAWAY was sent (the connection was idle). */
  | { kind: 'ready'; from: PeerIdentity; sendLimit: number; goingAwaySince: number | undefined }
  /** A REFUSE was sent; waiting for the peer to hang up (or the linger timer). */
  | { kind: 'refusing'; timer: TimerHandle }
  | { kind: 'closed' };

/**
 * One accepted connection: waits for HELLO (within the handshake deadline), then serves request
 * frames through the handler and writes the responses back, in whatever order they finish.
 */
export class ServerConnection {
  private state: ServerConnectionState;
  private inFlight = 0;
  private readonly remote: string;
  private readonly reader: FrameReader;
  private readonly writer: FrameWriter;
  // One signal per connection: it fires when the connection closes, for every request on it.
  private readonly lifetime = new AbortController();
  /** The first bytes received, to name what a connection dropped before its HELLO was speaking. */
  private head: Buffer | undefined;
  /** True once a request of the current socket read has been started. */
  private startedInRead = false;
  /**
   * Requests that arrived behind another in one socket read, started together in the check phase
   * after the first one's answer is written. Pipelining: the requester decodes that answer while
   * this node works on the rest, instead of both sides taking turns over one combined write. At
   * most what the loop reads from this socket in one poll phase; the cost is one extra write and
   * one `setImmediate` per read that holds several requests.
   */
  private waiting: Buffer[] | undefined;
  private readonly startWaiting = (): void => {
    const frames = this.waiting;
    this.waiting = undefined;
    const state = this.state;
    if (frames === undefined || state.kind !== 'ready') return;
    for (let index = 0; index < frames.length; index++) {
      if (this.state.kind !== 'ready' || this.stopped) return;
      if (this.writer.blocked) {
        // The peer is not reading what was answered: the rest start once it drains.
        this.waiting = frames.slice(index);
        return;
      }
      this.onRequest(frames[index] as Buffer, state.from, state.sendLimit);
    }
  };
  /** Set by {@link stopStarting}: requests read from now on, or waiting, are not started. */
  private stopped = false;
  /**
   * Clock time of the last bytes received (the accept time before any): what the idle timeout
   * counts from, and liveness evidence for the failure detector. One clock read per socket read,
   * not per frame.
   */
  private lastDataAt: number;
  private readonly options: ResolvedTransportOptions;
  private readonly handler: PeerRequestHandler;
  /** Clock time the sweep first saw the current incomplete frame, and which frame it was. */
  private partialSince: number | undefined;
  private partialFrame = 0;
  /**
   * While the socket waits for `drain`: the clock time it last made progress (said to wait, or
   * handed some of its queued bytes to the kernel), and how many bytes it had queued then.
   */
  private blockedSince: number | undefined;
  private blockedPending = 0;
  /**
   * Answers finished while the socket waits for `drain`, in order, not built yet: they refer to
   * bytes the cache holds anyway, and are built as the socket drains. A peer that does not read its
   * answers costs this list and the socket's queue (at most one flush, ~1 MiB, and one answer), not
   * the answers built.
   */
  private queued: QueuedReply[] | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly context: ServerConnectionContext,
  ) {
    const { options, log } = context;
    this.options = options;
    this.handler = context.handler;
    this.lastDataAt = options.clock.now();
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.reader = new FrameReader(
      HANDSHAKE_MAX_FRAME_BYTES,
      (frame) => this.onFrame(frame),
      (error, problem) => {
        const hint = this.state.kind === 'handshaking' ? foreignProtocolHint(this.head) : '';
        log.warn(
          `frame-${problem}`,
          `dropping peer connection from ${this.remote}: ${error.message}${hint}`,
          {
            remote: this.remote,
          },
        );
        this.close();
      },
      context.budget,
    );
    this.writer = new FrameWriter(socket, (blocked) => this.onBlocked(blocked));
    const timer = setDeadline(options.clock, options.handshakeTimeoutMs, () => {
      if (this.state.kind !== 'handshaking') return;
      log.warn(
        'handshake-timeout',
        `dropping peer connection from ${this.remote}: no handshake within ${options.handshakeTimeoutMs}ms`,
        { remote: this.remote },
      );
      this.close();
    });
    this.state = { kind: 'handshaking', timer };
    // A copy: a view would pin the socket's whole read chunk for the life of the connection.
    socket.once('data', (chunk: Buffer) => (this.head = Buffer.from(chunk.subarray(0, 8))));
    socket.on('data', (chunk: Buffer) => {
      this.lastDataAt = options.clock.now();
      this.startedInRead = false;
      this.reader.push(chunk);
    });
    socket.on('error', (error) =>
      options.logger.debug(`peer connection from ${this.remote} failed: ${error.message}`),
    );
    socket.on('close', () => this.close());
  }

  /** Who opened the connection, once its handshake is done. */
  get identity(): PeerIdentity | undefined {
    return this.state.kind === 'ready' ? this.state.from : undefined;
  }

  /** Clock time of the last bytes received (the accept time before any). */
  get lastReceivedAt(): number {
    return this.lastDataAt;
  }

  /** Closes the connection and fires the handlers' signal. Idempotent. */
  /**
   * Starts no more requests (the server is closing); the ones running still answer until
   * {@link close}.
   */
  stopStarting(): void {
    this.stopped = true;
    this.waiting = undefined;
  }

  close(): void {
    const state = this.state;
    if (state.kind === 'closed') return;
    if (state.kind === 'handshaking' || state.kind === 'refusing')
      this.options.clock.clearTimeout(state.timer);
    this.state = { kind: 'closed' };
    this.waiting = undefined;
    this.queued = undefined;
    this.reader.stop();
    this.writer.close();
    this.socket.destroy();
    this.lifetime.abort(peerUnavailable(this.remote, 'connection-closed', 'the connection was closed'));
    this.context.onClosed(this);
  }

  /**
   * Called by the listener's periodic sweep: closes a connection whose frame has been incomplete for
   * `frameTimeout`, sends GOAWAY to one idle for `idleTimeout` (nothing received, no request in
   * flight), and closes one that got GOAWAY a `handshakeTimeout` ago once its last request is
   * answered. Precision is the sweep interval.
   */
  check(now: number): void {
    const state = this.state;
    if (state.kind === 'closed' || state.kind === 'refusing') return;
    if (!this.reader.partial) {
      this.partialSince = undefined;
    } else if (this.partialSince === undefined || this.partialFrame !== this.reader.framesRead) {
      this.partialSince = now;
      this.partialFrame = this.reader.framesRead;
    } else if (now - this.partialSince >= this.options.frameTimeoutMs) {
      this.context.log.warn(
        'frame-timeout',
        `dropping peer connection from ${this.remote}: a frame did not complete within ${this.options.frameTimeoutMs}ms (frameTimeout)`,
        { remote: this.remote },
      );
      return this.close();
    }
    if (state.kind !== 'ready') return;
    if (this.blockedSince !== undefined) {
      const pending = this.socket.writableLength;
      if (pending < this.blockedPending) {
        // It reads, if slowly: the time counts from this progress.
        this.blockedSince = now;
        this.blockedPending = pending;
      } else if (now - this.blockedSince >= this.options.frameTimeoutMs) {
        this.context.log.warn(
          'reply-timeout',
          `dropping peer connection from ${this.remote}: it read nothing of its answers for ${this.options.frameTimeoutMs}ms (frameTimeout)`,
          { remote: this.remote },
        );
        return this.close();
      }
    }
    // Bytes after a GOAWAY: a request that crossed it, or a client that predates GOAWAY and keeps
    // using the connection. Either way it is not idle; it gets a new GOAWAY when it is again.
    if (state.goingAwaySince !== undefined && this.lastDataAt >= state.goingAwaySince) {
      state.goingAwaySince = undefined;
    }
    if (this.inFlight > 0) return;
    if (state.goingAwaySince !== undefined) {
      // The client had a handshake timeout to stop using the connection; it normally hangs up first.
      if (now - state.goingAwaySince >= this.options.handshakeTimeoutMs) this.close();
      return;
    }
    if (this.partialSince === undefined && now - this.lastDataAt >= this.options.idleTimeoutMs) {
      this.options.logger.debug(
        `peer connection from ${this.remote} idle for ${now - this.lastDataAt}ms (idleTimeout): GOAWAY`,
        { remote: this.remote },
      );
      state.goingAwaySince = now;
      this.writer.write(encodeGoAwayFrame());
    }
  }

  private onFrame(frame: Buffer): void {
    const state = this.state;
    switch (state.kind) {
      case 'handshaking':
        return this.onHello(frame, state.timer);
      case 'ready':
        if (this.stopped) return;
        // The first request of a read starts at once; the ones after it wait for the check phase,
        // so that its answer (written in this callback's promise jobs) leaves first.
        if (this.waiting !== undefined) {
          this.waiting.push(frame);
          return;
        }
        if (this.writer.blocked) {
          // Read before the socket was paused: started once the peer reads its answers.
          this.waiting = [frame];
          return;
        }
        if (this.startedInRead) {
          this.waiting = [frame];
          setImmediate(this.startWaiting);
          return;
        }
        this.startedInRead = true;
        return this.onRequest(frame, state.from, state.sendLimit);
      case 'refusing':
      case 'closed':
        return;
    }
  }

  private onHello(frame: Buffer, timer: TimerHandle): void {
    let decoded: HandshakeFrame;
    try {
      decoded = decodeHandshakeFrame(frame);
      if (decoded.kind !== 'hello')
        return this.refuse(RefuseReason.MALFORMED, `expected HELLO, got ${decoded.kind}`);
    } catch (error) {
      return this.refuse(RefuseReason.MALFORMED, error instanceof Error ? error.message : String(error));
    }
    const problem = handshakeProblem(this.options.cluster, decoded);
    if (problem !== undefined) return this.refuse(problem.reason, problem.message);
    const hello = decoded.hello as HandshakeHello;
    this.options.clock.clearTimeout(timer);
    const from = { nodeId: hello.nodeId, address: hello.address, incarnation: hello.incarnation };
    // No answer larger than this node would accept itself: a HELLO announcing 1 GiB otherwise made
    // the node build one GET_MANY answer of hundreds of megabytes.
    const sendLimit = Math.min(hello.maxFrameBytes, this.options.maxFrameBytes);
    this.state = { kind: 'ready', from, sendLimit, goingAwaySince: undefined };
    this.reader.setLimit(this.options.maxFrameBytes);
    this.writer.write(encodeWelcomeFrame(this.context.welcome(from)));
    this.options.logger.debug(`peer ${hello.nodeId} connected from ${this.remote}`, { node: hello.nodeId });
  }

  private refuse(reason: RefuseReason, message: string): void {
    const name = refuseReasonName(reason);
    this.context.log.warn(
      `refused-${name}`,
      `refused peer connection from ${this.remote} (${name}): ${message}`,
      {
        remote: this.remote,
        reason: name,
      },
    );
    if (this.state.kind === 'handshaking') this.options.clock.clearTimeout(this.state.timer);
    this.reader.stop();
    this.writer.write(encodeRefuseFrame(reason, message));
    this.writer.flush();
    this.socket.end();
    // Give the peer a moment to read the REFUSE and hang up, then make sure the socket is gone.
    const timer = this.options.clock.setTimeout(() => this.close(), this.options.handshakeTimeoutMs);
    this.state = { kind: 'refusing', timer };
  }

  private onRequest(frame: Buffer, from: PeerIdentity, sendLimit: number): void {
    const opcode = frame[4] ?? 0;
    const id = frame.readUInt32BE(6);
    if (!isRequestOpcode(opcode)) {
      this.context.log.warn(
        'not-a-request',
        `dropping peer connection from ${this.remote}: opcode 0x${opcode.toString(16)} is not a request`,
      );
      return this.close();
    }
    if (this.inFlight >= this.options.maxInFlightPerPeer) {
      const message = `more than ${this.options.maxInFlightPerPeer} requests in flight on this connection`;
      return this.reply(id, { op: 'error', code: 'E_TOO_MANY_REQUESTS', message }, sendLimit);
    }
    let decoded: RequestFrame;
    try {
      decoded = decodeRequestFrame(frame);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.context.log.warn('malformed-request', `malformed request from peer ${from.nodeId}: ${message}`, {
        node: from.nodeId,
      });
      return this.reply(id, { op: 'error', code: 'E_PROTOCOL', message }, sendLimit);
    }
    this.inFlight++;
    let result: Promise<PeerReply>;
    try {
      result = this.handler(decoded.request, from, this.lifetime.signal, decoded.meta);
    } catch (error) {
      result = Promise.reject(error);
    }
    const extended = 'extendedReply' in decoded.request && decoded.request.extendedReply === true;
    result.then(
      (response) => {
        this.inFlight--;
        this.reply(id, response, sendLimit, extended);
      },
      (error: unknown) => {
        this.inFlight--;
        this.reply(id, this.errorResponse(error, decoded.request.op), sendLimit, extended);
      },
    );
  }

  private reply(id: number, response: PeerReply, sendLimit: number, extended = false): void {
    if (this.state.kind !== 'ready') return;
    if (this.writer.blocked || this.queued !== undefined) {
      // The socket waits for the peer to read: the answer waits too, unbuilt and in order.
      (this.queued ??= []).push({ id, response, sendLimit, extended });
      return;
    }
    this.build(id, response, sendLimit, extended);
    this.writer.commit();
  }

  /**
   * Encodes one answer into the write arena. An answer known from its values' sizes to be over the
   * connection's limit (`sendLimit`, the smaller of the two sides' `maxFrameBytes`) is not built at all (a GET_MANY of one large value's key, repeated, would have
   * been built whole first). A tick's answers past 1 MiB go to the socket at once, so that a peer
   * that stopped reading is seen (the socket says to wait) before more are built.
   */
  private build(id: number, response: PeerReply, sendLimit: number, extended: boolean): void {
    const builder = this.writer.builder;
    const atLeast = responseSizeAtLeast(response);
    if (atLeast > sendLimit) {
      writeResponseFrame(builder, id, overLimit(atLeast, sendLimit));
    } else {
      let size: number;
      try {
        size = writeResponseFrame(builder, id, response, extended);
      } catch (error) {
        builder.rollback();
        size = writeResponseFrame(builder, id, this.errorResponse(error, 'response encoding'));
      }
      if (size - LENGTH_PREFIX_BYTES > sendLimit) {
        builder.discardLast(size);
        writeResponseFrame(builder, id, overLimit(size - LENGTH_PREFIX_BYTES, sendLimit));
      }
    }
    if (this.writer.pendingBytes >= FLUSH_AT_BYTES) this.writer.flush();
  }

  /** The socket said to wait for `drain` (or drained): stop or resume reading, starting and building. */
  private onBlocked(blocked: boolean): void {
    if (blocked) {
      this.socket.pause();
      this.blockedSince = this.options.clock.now();
      this.blockedPending = this.socket.writableLength;
      return;
    }
    this.blockedSince = undefined;
    // Build what waited, in order, until the socket says to wait again.
    const queued = this.queued;
    let next = 0;
    if (queued !== undefined) {
      while (next < queued.length && !this.writer.blocked && this.state.kind === 'ready') {
        const { id, response, sendLimit, extended } = queued[next++] as QueuedReply;
        this.build(id, response, sendLimit, extended);
      }
      if (this.state.kind !== 'ready') return; // closed while building: close() dropped the queue
      this.queued = next < queued.length ? queued.slice(next) : undefined;
    }
    if (this.writer.blocked || this.state.kind !== 'ready') return;
    this.writer.commit();
    this.socket.resume();
    if (this.waiting !== undefined) setImmediate(this.startWaiting);
  }

  /** Answers waiting, unbuilt, for the socket to drain. */
  get queuedReplies(): number {
    return this.queued?.length ?? 0;
  }

  private errorResponse(error: unknown, what: string): PeerResponse {
    // The cause (what a data source threw) travels as a detail, for requesters that read it.
    const { code, message, detail, internal } = failureAnswer(error);
    // Not a DistCacheError: a bug in the handler. The requester sees the peer as failing.
    if (internal)
      this.options.logger.error(`peer request handler failed (${what}): ${message}`, { remote: this.remote });
    return detail === undefined ? { op: 'error', code, message } : { op: 'error', code, message, detail };
  }
}

/**
 * Answers finished in one tick past this many bytes are handed to the socket at once instead of at
 * the end of the tick: a tick of 1,024 answers of a large value (a peer pipelining gets and reading
 * none) otherwise built all of them before the socket could say to wait.
 */
const FLUSH_AT_BYTES = 1024 * 1024;

/** An answer waiting for the socket to drain. */
interface QueuedReply {
  readonly id: number;
  readonly response: PeerReply;
  readonly sendLimit: number;
  readonly extended: boolean;
}

/** The answer sent instead of one over the connection's frame limit. */
function overLimit(bytes: number, sendLimit: number): PeerResponse {
  const message = `the response of ${bytes} bytes is over the ${sendLimit} bytes a frame may have on this connection (the smaller of the requester's and this node's maxFrameBytes)`;
  return { op: 'error', code: 'E_PROTOCOL', message };
}

/** Names the protocol a client spoke instead of ours, when its first bytes make that obvious. */
function foreignProtocolHint(head: Buffer | undefined): string {
  if (head === undefined || head.length < 2) return '';
  // A TLS record: content type 22 (handshake), version 3.x.
  if (head[0] === 0x16 && head[1] === 0x03)
    return ' (the bytes are a TLS handshake: the peer uses tls and this node does not)';
  if (/^[A-Z]{3,7} \//.test(head.toString('latin1'))) return ' (the bytes are an HTTP request)';
  return '';
}
