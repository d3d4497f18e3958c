import { type DistCacheError, isDistCacheError } from '../errors/distcache-error';
import {
  aborted,
  peerProtocolError,
  peerUnavailable,
  tooManyPeerRequests,
  withoutPeerPrefix,
} from '../errors/messages';
import { reconnectDelayMs } from './backoff';
import { ClientConnection } from './client-connection';
import { DeadlineTimer } from './deadline-timer';
import { decodeResponseFrame } from './response-codec';
import type { HandshakeHello } from './handshake-codec';
import { PendingRequest } from './pending-request';
import type { LogThrottle } from '../util/log-throttle';
import type { PeerSocketFactory } from './socket-factory';
import type { PeerAddress, PeerRequest, PeerRequestOptions, PeerResponse } from './transport';
import type { ResolvedTransportOptions } from './transport-options';
import { ChurnTable } from '../util/churn-table';

/** Lifecycle of the connection to one peer. */
export type PeerClientState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'open'; connection: ClientConnection }
  /** The last attempt failed; requests fail fast until `until` (clock time). */
  | { kind: 'backoff'; until: number; lastError: DistCacheError }
  | { kind: 'closed' };

const MAX_ID = 0xffff_ffff;

/**
 * Everything about talking to one peer: the persistent connection (opened on first use, shared by
 * concurrent first requests), request ids, in-flight bookkeeping, deadlines, and reconnect backoff.
 */
export class PeerClient {
  private state: PeerClientState = { kind: 'idle' };
  private failures = 0;
  private nextId = 1;
  private inFlight = 0;
  /** `lastReceivedAt` of connections that are gone. */
  private lastReceivedOnClosed = 0;
  /** Sent requests by id. */
  private readonly sent = new ChurnTable<number, PendingRequest>();
  /** Requests waiting for the connection. */
  private readonly waiting = new Set<PendingRequest>();
  /**
   * Connections the server sent GOAWAY on: no new request goes there, and each is closed once the
   * requests already sent on it are settled (their answers still arrive on it).
   */
  private readonly draining = new Set<ClientConnection>();
  private readonly lifetime = new AbortController();
  private readonly deadlines: DeadlineTimer;
  private readonly forget = (pending: PendingRequest): void => {
    this.inFlight--;
    if (pending.id !== 0) this.sent.delete(pending.id);
    else this.waiting.delete(pending);
    const connection = pending.connection;
    if (connection !== undefined && this.draining.has(connection)) this.closeIfDrained(connection);
  };

  constructor(
    private readonly peer: PeerAddress,
    private readonly peerId: string,
    private readonly options: ResolvedTransportOptions,
    private readonly factory: PeerSocketFactory,
    private readonly hello: () => HandshakeHello,
    private readonly refusals: LogThrottle,
  ) {
    this.deadlines = new DeadlineTimer(options.clock, (now) => this.expire(now));
  }

  /** Current lifecycle state (for diagnostics and tests). */
  get status(): PeerClientState['kind'] {
    return this.state.kind;
  }

  /** Requests sent or waiting for the connection. */
  get pendingCount(): number {
    return this.inFlight;
  }

  /** Clock time of the last bytes received from the peer on any of our connections; 0 when none. */
  get lastReceivedAt(): number {
    let last = this.state.kind === 'open' ? this.state.connection.lastReceivedAt : 0;
    for (const connection of this.draining) last = Math.max(last, connection.lastReceivedAt);
    return Math.max(last, this.lastReceivedOnClosed);
  }

  /**
   * The peer's process restarted (a new incarnation greeted us): the backoff its death grew is
   * about a process that is gone, and so is a connection to it that has gone quiet. Drops both, so
   * the next request connects at once. A connection that already speaks to `incarnation`, or that
   * heard from its peer in the last second, is kept: a HELLO naming this address is not proof (any
   * client that passed the handshake can send one), and a live connection needs no help.
   */
  reset(error: DistCacheError, incarnation: string): void {
    const state = this.state;
    if (state.kind === 'backoff') {
      this.failures = 0;
      this.state = { kind: 'idle' };
    } else if (state.kind === 'open') {
      const { connection } = state;
      if (connection.remote?.incarnation === incarnation) return;
      if (this.options.clock.now() - connection.lastReceivedAt < 1_000) return;
      this.lastReceivedOnClosed = Math.max(this.lastReceivedOnClosed, connection.lastReceivedAt);
      this.failures = 0;
      this.state = { kind: 'idle' };
      connection.close(error);
    }
  }

  /** See {@link PeerTransport.request}. */
  request(request: PeerRequest, options: PeerRequestOptions): Promise<PeerResponse> {
    if (this.state.kind === 'closed') return Promise.reject(this.closedError());
    if (options.signal?.aborted === true) {
      return Promise.reject(aborted(`peer request "${request.op}" to ${this.peerId}`, options.signal.reason));
    }
    if (this.inFlight >= this.options.maxInFlightPerPeer) {
      return Promise.reject(tooManyPeerRequests(this.peerId, this.options.maxInFlightPerPeer));
    }
    if (this.state.kind === 'backoff' && this.options.clock.now() < this.state.until) {
      const { until, lastError } = this.state;
      const waitMs = until - this.options.clock.now();
      return Promise.reject(
        peerUnavailable(
          this.peerId,
          'backoff',
          `reconnecting in ${waitMs}ms after: ${withoutPeerPrefix(this.peerId, lastError.message)}`,
          lastError,
        ),
      );
    }
    const deadline = this.options.clock.now() + options.timeoutMs;
    return new Promise<PeerResponse>((resolve, reject) => {
      const pending = new PendingRequest(
        request,
        options.meta,
        deadline,
        options.timeoutMs,
        this.peerId,
        resolve,
        reject,
        this.forget,
        options.signal,
        options.sendNow === true,
      );
      this.inFlight++;
      this.deadlines.schedule(deadline);
      if (this.state.kind === 'open') return this.send(pending, this.state.connection);
      this.waiting.add(pending);
      if (this.state.kind !== 'connecting') this.connect();
    });
  }

  /** Fails everything pending with `error` and closes the connection. Idempotent. */
  close(error: DistCacheError = this.closedError()): void {
    if (this.state.kind === 'closed') return;
    const connection = this.state.kind === 'open' ? this.state.connection : undefined;
    this.state = { kind: 'closed' };
    this.lifetime.abort();
    this.deadlines.cancel();
    this.failAll(error);
    connection?.close(error);
    for (const draining of [...this.draining]) draining.close(error);
    this.draining.clear();
  }

  private connect(): void {
    this.state = { kind: 'connecting' };
    // Events arrive only after the handshake, when `opened` is set.
    let opened: ClientConnection | undefined;
    const events = {
      onResponse: (frame: Buffer) => this.onResponse(frame),
      onClose: (error: DistCacheError) => {
        if (opened !== undefined) this.onConnectionLost(opened, error);
      },
      onGoAway: () => {
        if (opened !== undefined) this.onGoAway(opened);
      },
    };
    ClientConnection.open({
      peer: this.peer,
      peerId: this.peerId,
      options: this.options,
      factory: this.factory,
      hello: this.hello(),
      events,
      signal: this.lifetime.signal,
      refusals: this.refusals,
    }).then(
      (connection) => {
        if (this.state.kind === 'closed') return connection.close(this.closedError());
        opened = connection;
        this.failures = 0;
        this.state = { kind: 'open', connection };
        this.options.logger.debug(`connected to peer ${this.peerId}`, {
          peer: this.peerId,
          node: connection.remote?.nodeId,
        });
        const waiting = [...this.waiting];
        this.waiting.clear();
        for (const pending of waiting) this.send(pending, connection);
      },
      (error: unknown) => {
        const failure = isDistCacheError(error)
          ? error
          : peerUnavailable(this.peerId, 'connect-failed', 'cannot connect', error);
        if (this.state.kind === 'closed') return;
        this.failures++;
        const delay = reconnectDelayMs(this.failures, {
          baseMs: this.options.reconnectBaseMs,
          maxMs: this.options.reconnectMaxMs,
          jitter: this.options.reconnectJitter,
        });
        this.state = { kind: 'backoff', until: this.options.clock.now() + delay, lastError: failure };
        this.options.logger.debug(`cannot connect to peer ${this.peerId}; next attempt in ${delay}ms`, {
          peer: this.peerId,
          error: failure.message,
        });
        // Requests still answered on a draining connection are not this attempt's.
        this.failWaiting(failure);
      },
    );
  }

  private send(pending: PendingRequest, connection: ClientConnection): void {
    let id = this.nextId;
    while (this.sent.has(id)) id = id === MAX_ID ? 1 : id + 1;
    try {
      connection.sendRequest(id, pending.request, pending.meta, pending.sendNow);
    } catch (error) {
      return pending.reject(error);
    }
    this.nextId = id === MAX_ID ? 1 : id + 1;
    pending.id = id;
    pending.connection = connection;
    this.sent.set(id, pending);
  }

  private onResponse(frame: Buffer): void {
    // A reply to a request that timed out or was aborted finds nothing here and is dropped.
    const pending = this.sent.get(frame.readUInt32BE(6));
    if (pending === undefined) return;
    let response: PeerResponse;
    try {
      response = decodeResponseFrame(frame).response;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return pending.reject(
        peerProtocolError(this.peerId, 'invalid-frame', `malformed response: ${message}`, error),
      );
    }
    pending.resolve(response);
  }

  private onConnectionLost(connection: ClientConnection, error: DistCacheError): void {
    this.lastReceivedOnClosed = Math.max(this.lastReceivedOnClosed, connection.lastReceivedAt);
    const wasDraining = this.draining.delete(connection);
    this.failSent(connection, error);
    if (wasDraining || this.state.kind !== 'open' || this.state.connection !== connection) return;
    // The connection was healthy, so the next request reconnects at once; backoff starts only when
    // that attempt fails.
    this.state = { kind: 'idle' };
    this.options.logger.info(`connection to peer ${this.peerId} lost: ${error.message}`, {
      peer: this.peerId,
    });
  }

  /**
   * The server will close this idle connection: the next request opens a new one at once (no
   * backoff), and this one closes when the requests already on it are answered. A request that
   * crossed the GOAWAY on the wire is still answered by the server, so none is lost.
   */
  private onGoAway(connection: ClientConnection): void {
    if (this.state.kind !== 'open' || this.state.connection !== connection) return;
    this.state = { kind: 'idle' };
    this.options.logger.debug(`peer ${this.peerId} closes the idle connection (GOAWAY)`, {
      peer: this.peerId,
    });
    this.draining.add(connection);
    this.closeIfDrained(connection);
  }

  private closeIfDrained(connection: ClientConnection): void {
    if (this.sent.some((pending) => pending.connection === connection)) return;
    this.draining.delete(connection);
    connection.close(peerUnavailable(this.peerId, 'connection-closed', 'closed after GOAWAY'));
  }

  /** Fails the requests whose deadline has come; returns the earliest deadline left. */
  private expire(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    const due: PendingRequest[] = [];
    for (const pending of this.sent.values()) {
      if (pending.deadline <= now) due.push(pending);
      else if (pending.deadline < next) next = pending.deadline;
    }
    for (const pending of this.waiting) {
      if (pending.deadline <= now) due.push(pending);
      else if (pending.deadline < next) next = pending.deadline;
    }
    for (const pending of due) pending.expire();
    return next;
  }

  private failAll(error: DistCacheError): void {
    const all = [...this.sent.values(), ...this.waiting];
    this.sent.clear();
    this.waiting.clear();
    for (const pending of all) pending.reject(error);
  }

  private failWaiting(error: DistCacheError): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const pending of waiting) pending.reject(error);
  }

  /** Fails the requests sent on `connection` (it is gone). */
  private failSent(connection: ClientConnection, error: DistCacheError): void {
    const lost: PendingRequest[] = [];
    for (const pending of this.sent.values()) if (pending.connection === connection) lost.push(pending);
    for (const pending of lost) pending.reject(error);
  }

  private closedError(): DistCacheError {
    return peerUnavailable(this.peerId, 'transport-closed', 'the transport was closed');
  }
}
