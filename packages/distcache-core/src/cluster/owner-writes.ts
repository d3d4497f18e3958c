import type { ClusterCoordinator, PeerRef } from './coordinator';
import { isFrameTooLarge } from './key-batches';
import { DEFAULT_MAX_BATCH_KEY_BYTES } from './cluster.options';
import { type DistCacheError, isDistCacheError } from '../errors/distcache-error';
import { aborted, timeout } from '../errors/messages';
import { DeadlineTimer } from '../transport/deadline-timer';
import type { PeerRequest, PeerResponse } from '../transport/transport';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_IN_FLIGHT_PER_PEER } from '../transport/transport-options';
import { onAbort } from '../util/abort';
import type { Clock } from '../util/clock';

/** What the requests of writes to owners keep within; the engine's resolved options. */
export interface WriteLimits {
  /**
   * The transport's `maxInFlightPerPeer`: writes to one owner keep to half of it (see
   * {@link WRITE_SHARE}).
   */
  readonly maxInFlightPerPeer: number;
  /** The transport's `maxFrameBytes`: the keys of one DELETE_MANY stay under it. */
  readonly maxFrameBytes: number;
  /** `clusterOptions.maxBatchKeyBytes`: most bytes of keys in one DELETE_MANY, counted as for a GET_MANY. */
  readonly maxBatchKeyBytes: number;
}

/** The limits of an engine built with default transport and cluster options. */
export const DEFAULT_WRITE_LIMITS: WriteLimits = {
  maxInFlightPerPeer: DEFAULT_MAX_IN_FLIGHT_PER_PEER,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxBatchKeyBytes: DEFAULT_MAX_BATCH_KEY_BYTES,
};

/**
 * The share of the transport's in-flight window (`maxInFlightPerPeer`, per peer) that this node's
 * writes to one owner may hold; the rest of their writes wait here, in call order, for a slot.
 *
 * Why a window of their own: the transport refuses a request past `maxInFlightPerPeer` rather than
 * queue it, so that a read falls back to a local load instead of waiting on an overloaded owner
 * (docs/protocol.md, section 8). A write has no fallback: sent one SET per key at once, a `putMany`
 * with more than 1024 keys of one owner (or as many concurrent `put`s) failed part-way with
 * `E_TOO_MANY_REQUESTS`, and only in a cluster. Why not all of it: what must not wait behind a bulk
 * write needs slots too: reads (refused, they load from the data source instead), the failure
 * detector's pings (a refused ping counts as unanswered: a node took a busy owner off its ring)
 * and invalidations. Why not less: measured on loopback (3 nodes, `putMany` of 60,000 keys), 512
 * SETs in flight took 1.2-1.4 s, as fast as no limit at all; 128 took 3.1-3.7 s.
 */
export const WRITE_SHARE = 0.5;

/** What bounds the requests of one write call. */
export interface WriteCall {
  /** The caller's timeout, or the keyspace's `writeTimeout`. */
  readonly timeoutMs: number;
  /** Clock time past which the call has failed for its caller: no request of it is sent after. */
  readonly until: number;
  /** The caller's signal: a request of an aborted call is not sent. */
  readonly signal: AbortSignal | undefined;
}

/** A write waiting for a slot to its owner. */
interface QueuedWrite {
  readonly request: PeerRequest;
  readonly call: WriteCall;
  readonly resolve: (response: PeerResponse) => void;
  readonly reject: (error: unknown) => void;
  /** Sent, or failed without being sent (its call's deadline passed, or its caller aborted). */
  done: boolean;
  stopListening: (() => void) | undefined;
}

/** First and longest wait before writes go again into a window that refused one. */
const FIRST_BACKOFF_MS = 2;
const MAX_BACKOFF_MS = 100;

/**
 * This node's writes to one owner: at most `window` requests in flight, the others queued in call
 * order and sent as answers free slots. A queued write whose call's deadline passes fails with
 * `E_TIMEOUT`, as one the owner did not answer in time would, and one whose caller aborted with
 * `E_ABORTED`: neither is sent. Made when a write to the owner finds none in flight, dropped when
 * the last one is answered.
 */
export class OwnerWrites {
  private inFlight = 0;
  private queue: Array<QueuedWrite | undefined> = [];
  /** Index of the first write of `queue` not taken off it yet. */
  private head = 0;
  /** A DELETE_MANY of several keys is on its way: nothing later is sent (see {@link dispatch}). */
  private paused = false;
  /** The transport refused a write for its full window: nothing is sent until `unblock`. */
  private blocked = false;
  /** Writes put back after the window refused them, at the head of the queue, in their order. */
  private requeued = 0;
  /** The current wait before sending again into a full window; 0 after a write went through. */
  private backoffMs = 0;
  /** Set when the engine stops: what would be queued fails with it at once. */
  private stoppedWith: DistCacheError | undefined;
  /** Fires at the earliest deadline of a queued write. */
  private readonly deadlines: DeadlineTimer;
  private readonly unblock = (): void => {
    this.blocked = false;
    this.pump();
  };

  constructor(
    private readonly owner: PeerRef,
    private readonly coordinator: ClusterCoordinator,
    private readonly clock: Clock,
    private readonly window: number,
    private readonly onIdle: () => void,
  ) {
    this.deadlines = new DeadlineTimer(clock, (now) => this.expire(now));
  }

  /** Sends `request` once every write to the owner queued before it has been sent. */
  send(request: PeerRequest, call: WriteCall): Promise<PeerResponse> {
    this.skipDone();
    if (this.head === this.queue.length && this.inFlight < this.window && !this.paused && !this.blocked)
      return this.dispatch(request, call);
    return this.enqueue(request, call, 'last');
  }

  /**
   * Queues `request`: `last`, `first` (before every write queued), or `again` (a write the full
   * window refused: after the ones refused before it, ahead of the rest, so they keep their order).
   */
  private enqueue(
    request: PeerRequest,
    call: WriteCall,
    where: 'last' | 'first' | 'again',
  ): Promise<PeerResponse> {
    const stopped = this.stoppedWith;
    if (stopped !== undefined) return Promise.reject(stopped);
    return new Promise<PeerResponse>((resolve, reject) => {
      const entry: QueuedWrite = { request, call, resolve, reject, done: false, stopListening: undefined };
      if (where === 'last') this.queue.push(entry);
      else if (where === 'again') this.queue.splice(this.head + this.requeued++, 0, entry);
      else if (this.head > 0) this.queue[--this.head] = entry;
      else this.queue.unshift(entry);
      this.deadlines.schedule(call.until);
      const { signal } = call;
      if (signal !== undefined) {
        entry.stopListening = onAbort(signal, () =>
          this.fail(entry, aborted(this.operation(request), signal.reason as unknown)),
        );
      }
    });
  }

  private dispatch(request: PeerRequest, call: WriteCall): Promise<PeerResponse> {
    const timeoutMs = call.until - this.clock.now();
    if (timeoutMs <= 0) {
      // Only from `send` (`pump` fails late writes itself): nothing may be in flight to this owner.
      this.dropIfIdle();
      return Promise.reject(timeout(this.operation(request), call.timeoutMs));
    }
    this.inFlight++;
    let sent: Promise<PeerResponse>;
    try {
      sent = this.coordinator.send(this.owner, request, { timeoutMs, signal: call.signal });
    } catch (error) {
      sent = Promise.reject(error);
    }
    // A DELETE_MANY of several keys holds back every later write until it is answered: the owner
    // may refuse it as over its frame limit (known only once the connection is open, so possibly
    // well after this turn), and then its halves go instead, before any later write, of the same
    // keys perhaps (a put after a deleteMany must not be undone by it).
    const barrier = request.op === 'deleteMany' && request.keys.length > 1;
    if (barrier) this.paused = true;
    return sent.then(
      (response) => {
        if (barrier) this.paused = false;
        // A slot of the window is free again: writes held back by a refusal may go now.
        this.blocked = false;
        this.backoffMs = 0;
        this.release();
        return response;
      },
      (error: unknown) => {
        if (barrier) this.paused = false;
        let result: Promise<PeerResponse>;
        if (barrier && isFrameTooLarge(error)) result = this.halves(request, call);
        else if (isDistCacheError(error, 'E_TOO_MANY_REQUESTS')) {
          // This node's window to the owner is full (its reads hold the rest of it): the write was
          // not sent. It waits, in its place, and goes again after a short backoff or when one of
          // these writes is answered. Refusals come in the order the writes were sent (the
          // transport refuses as it is handed a request), so the order of writes holds. A refusal
          // by the owner itself (an ERROR answer) is not retried: a later write may have been
          // applied meanwhile.
          result = this.enqueue(request, call, 'again');
          this.backOff();
        } else result = Promise.reject(error);
        this.release();
        return result;
      },
    );
  }

  /**
   * The engine stops: every write still queued fails with `error` (`E_ENGINE_STOPPED`; none of them
   * was sent, so none is applied), as does any the window refuses from now on. Writes in flight
   * end with their answer.
   */
  stop(error: DistCacheError): void {
    this.stoppedWith = error;
    for (let i = this.head; i < this.queue.length; i++) {
      const entry = this.queue[i];
      if (entry !== undefined) this.fail(entry, error);
    }
    this.queue = [];
    this.head = 0;
    this.requeued = 0;
    this.deadlines.cancel();
    this.dropIfIdle();
  }

  /** Holds the queue back for a while after the window refused a write (doubling, up to 100 ms). */
  private backOff(): void {
    if (this.blocked) return;
    this.blocked = true;
    this.backoffMs = Math.min(this.backoffMs === 0 ? FIRST_BACKOFF_MS : this.backoffMs * 2, MAX_BACKOFF_MS);
    this.clock.setTimeout(this.unblock, this.backoffMs);
  }

  /** A DELETE_MANY in two, first in the queue; answers as the whole would have. */
  private async halves(request: PeerRequest & { op: 'deleteMany' }, call: WriteCall): Promise<PeerResponse> {
    const middle = Math.ceil(request.keys.length / 2);
    const tail = this.enqueue({ ...request, keys: request.keys.slice(middle) }, call, 'first');
    const front = this.enqueue({ ...request, keys: request.keys.slice(0, middle) }, call, 'first');
    const [a, b] = await Promise.all([front, tail]);
    if (a.op !== 'ok') return a;
    if (b.op !== 'ok') return b;
    return { op: 'ok', removed: (a.removed ?? middle) + (b.removed ?? request.keys.length - middle) };
  }

  private release(): void {
    this.inFlight--;
    this.pump();
  }

  /** Sends queued writes while there are free slots. */
  private pump(): void {
    const now = this.clock.now();
    while (this.inFlight < this.window && !this.paused && !this.blocked && this.head < this.queue.length) {
      const entry = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (this.requeued > 0) this.requeued--;
      if (entry === undefined || entry.done) continue;
      // Past its deadline before its deadline timer ran (a slot freed at that very moment): failed
      // here, not dispatched. Dispatching it made `dispatch` call back into this loop, one level per
      // late write: a putMany of 10,000 overflowed the stack and left its promises unsettled.
      if (entry.call.until <= now) {
        this.fail(entry, timeout(this.operation(entry.request), entry.call.timeoutMs));
        continue;
      }
      entry.done = true;
      entry.stopListening?.();
      this.dispatch(entry.request, entry.call).then(entry.resolve, entry.reject);
    }
    this.skipDone();
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.deadlines.cancel();
      this.dropIfIdle();
    } else if (this.head > 1024 && this.head * 2 > this.queue.length && this.requeued === 0) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Lets the owner's queue go once nothing is in flight, queued or held back. */
  private dropIfIdle(): void {
    if (this.inFlight === 0 && this.head === this.queue.length && !this.paused && !this.blocked)
      this.onIdle();
  }

  /** Fails the queued writes whose deadline is `now` or before; returns the next deadline. */
  private expire(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (let i = this.head; i < this.queue.length; i++) {
      const entry = this.queue[i];
      if (entry === undefined || entry.done) continue;
      if (entry.call.until <= now)
        this.fail(entry, timeout(this.operation(entry.request), entry.call.timeoutMs));
      else next = Math.min(next, entry.call.until);
    }
    return next;
  }

  private fail(entry: QueuedWrite, error: DistCacheError): void {
    if (entry.done) return;
    entry.done = true;
    entry.stopListening?.();
    entry.reject(error);
  }

  private skipDone(): void {
    while (this.head < this.queue.length && this.queue[this.head]?.done !== false) {
      this.queue[this.head++] = undefined;
      if (this.requeued > 0) this.requeued--;
    }
  }

  /** Names the request as the transport does in its timeout and abort errors. */
  private operation(request: PeerRequest): string {
    return `peer request "${request.op}" to ${this.owner.id}`;
  }
}
