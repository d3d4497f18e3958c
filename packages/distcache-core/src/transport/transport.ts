import type { DistCacheErrorCode } from '../errors/error-codes';
import type { ErrorDetail } from '../errors/remote-error';

/** Where a peer listens. The peer's id is `"host:port"` (see {@link formatPeerAddress}). */
export interface PeerAddress {
  host: string;
  port: number;
}

/**
 * A request one node sends to another. `forwarded` marks a request that already came from a peer:
 * the receiver must serve or load it itself and never forward it again.
 */
export type PeerRequest =
  /** `tagsReply`: the sender reads tags in values (the remote loader sets it on every read). */
  | {
      op: 'get';
      keySpace: string;
      key: string;
      forwarded: boolean;
      extendedReply?: boolean;
      tagsReply?: boolean;
    }
  | {
      op: 'getMany';
      keySpace: string;
      keys: string[];
      forwarded: boolean;
      extendedReply?: boolean;
      tagsReply?: boolean;
      /**
       * The sender reads a failed key as its own result ({@link KeyErrorResult}), so one key's
       * failure does not fail the others. Older receivers ignore it and answer one ERROR.
       */
      keyErrors?: boolean;
      /**
       * With `keyErrors`: answer the keys held now, and the ones still loading as pending
       * ({@link KeyPendingResult}) rather than waiting for the slowest load. Older receivers ignore it.
       */
      partial?: boolean;
    }
  /** `expiresAt` is absolute, in epoch milliseconds; 0 means "never". */
  | {
      op: 'set';
      keySpace: string;
      key: string;
      value: Uint8Array;
      expiresAt: number;
      /** Store only if the receiver holds no fresh entry for the key (ownership hand-off). */
      ifAbsent?: boolean;
      /**
       * Epoch ms after which the writer has given up on this request (0 or absent: never). A SET
       * that arrives later (bytes held by a partition and delivered at the heal) is refused with
       * `E_TIMEOUT` instead of installing a value older than writes made since.
       */
      notAfter?: number;
      /** The tags the entry carries (`FrameFlag.TAGS`); absent or empty: none. */
      tags?: readonly string[];
    }
  | { op: 'delete'; keySpace: string; key: string; extendedReply?: boolean }
  | { op: 'deleteMany'; keySpace: string; keys: string[]; extendedReply?: boolean }
  /** Drop hot copies of these keys (the owner's value changed). */
  | { op: 'invalidate'; keySpace: string; keys: string[] }
  /** Drop every entry and hot copy carrying one of these tags (`deleteByTags`). */
  | {
      op: 'invalidateTags';
      keySpace: string;
      tags: string[];
      /** The second round of one `deleteByTags` (`FrameFlag.AGAIN`): not counted again. */
      again?: boolean;
    }
  | { op: 'dropKeySpace'; keySpace: string }
  /** Drop every entry and hot copy of the keyspace, keeping the keyspace and its settings. */
  | { op: 'clearKeySpace'; keySpace: string }
  | { op: 'ping' }
  /** Graceful departure notice: the sender is leaving the cluster. */
  | { op: 'leave' }
  /**
   * Indirect probe: ping the member at `host:port` on the sender's behalf and answer `ok` if it
   * answered, `error` if not. A node that cannot reach a member asks others before it drops it.
   */
  | { op: 'probe'; host: string; port: number }
  /**
   * The sender may have missed invalidations of this node (it was cut off, paused or dropped):
   * deliver them now, then answer `ok`. A node back from a silence pulls these from every peer
   * before it answers pings or serves reads of peers.
   */
  | { op: 'sync' };

/** The operation names of {@link PeerRequest}. */
export type PeerRequestOp = PeerRequest['op'];

/**
 * Bytes a server answers with: a `Uint8Array`, or a string of one byte per character (latin1, each
 * character below 256), the form the engine keeps values in (`keyspace/packed-bytes.ts`). A string
 * is written into the frame as it is, with no buffer of its own: measured on an owner serving
 * `getMany` (bench/get-many), a `Buffer` per key made a third of its CPU time garbage collection.
 * Received answers always carry a `Uint8Array`.
 */
export type WireBytes = Uint8Array | string;

/** The byte length of {@link WireBytes}. */
export function wireByteLength(bytes: WireBytes): number {
  return typeof bytes === 'string' ? bytes.length : bytes.byteLength;
}

/**
 * One looked-up entry. `expiresAt` is absolute epoch milliseconds (0 = never); on a miss it says
 * how long the "not found" may be remembered (negative caching), 0 meaning "do not remember".
 * `Bytes` is `Uint8Array` in what a requester receives, {@link WireBytes} in what a server answers.
 */
export type ValueResult<Bytes extends WireBytes = Uint8Array> =
  | {
      found: true;
      /**
       * The encoded value. In a response received by `TcpPeerTransport` it is a view of the
       * socket's read chunk (no copy): keeping it keeps that chunk (up to 64 KiB) alive, so copy
       * what you keep (the engine's entries do: `pack`, `CacheEntry.retimed`).
       */
      value: Bytes;
      expiresAt: number;
      /** The entry's tags; sent only to a requester that set `tagsReply`. */
      tags?: readonly string[];
    }
  | { found: false; expiresAt: number };

/**
 * One key of a GET_MANY that failed on the receiver (its data source threw, timed out...), sent only
 * to a requester that set `keyErrors`: the other keys of the request keep their own results.
 */
export interface KeyErrorResult {
  found: 'error';
  code: DistCacheErrorCode;
  message: string;
  detail?: ErrorDetail;
}

/**
 * One key of a GET_MANY that the receiver is loading from its data source (sent only to a requester
 * that set `keyErrors`): the receiver answers the keys it holds at once instead of making them wait
 * for the slowest load, and the requester asks for this key alone (a GET, which joins the load).
 */
export interface KeyPendingResult {
  found: 'pending';
}

/** A result of a GET_MANY answer. */
export type KeyResult<Bytes extends WireBytes = Uint8Array> =
  ValueResult<Bytes> | KeyErrorResult | KeyPendingResult;

/** The answer to a {@link PeerRequest}, as its requester receives it (see {@link PeerReply}). */
export type PeerResponse<Bytes extends WireBytes = Uint8Array> =
  | { op: 'value'; result: ValueResult<Bytes> }
  /** One result per requested key, in the order of the request's `keys`. */
  | { op: 'values'; results: Array<KeyResult<Bytes>> }
  /**
   * Done. `removed`: how many of a delete's keys the receiver held (only sent to a requester that
   * set `extendedReply`; absent from older peers).
   */
  | { op: 'ok'; removed?: number }
  | { op: 'pong'; nodeId: string }
  /**
   * The peer failed the request; `code` is the code it would have thrown. `detail` describes the
   * error's cause (what the data source threw), for a requester that set `extendedReply`.
   */
  | { op: 'error'; code: DistCacheErrorCode; message: string; detail?: ErrorDetail };

/** Who sent a request, as announced in the connection's handshake. */
export interface PeerIdentity {
  /** The sender's node id. */
  nodeId: string;
  /** The sender's advertised peer listener (port 0 when it does not listen). */
  address: PeerAddress;
  /** The sender's process run, from its HELLO (see `HandshakeHello.incarnation`). */
  incarnation: string;
}

/**
 * Small string map carried with a request (an OpenTelemetry `traceparent`, for example). At most
 * {@link MAX_META_ENTRIES} entries; names and values are UTF-8 strings of at most 65 535 bytes.
 */
export type PeerRequestMeta = Readonly<Record<string, string>>;

/**
 * Serves requests that arrive from peers. The returned response is sent back; a rejection is sent
 * as `{ op: 'error' }` with the error's `code` when it is a `DistCacheError`, and
 * `E_PEER_UNAVAILABLE` otherwise.
 *
 * @param request the decoded request
 * @param from the sending node, from its handshake
 * @param signal fires when the connection the request came on closes (the answer can no longer be
 *   delivered); one signal is shared by every request of a connection
 * @param meta the request's meta map; an empty frozen object when the sender sent none
 */
export type PeerRequestHandler = (
  request: PeerRequest,
  from: PeerIdentity,
  signal: AbortSignal,
  meta: PeerRequestMeta,
) => Promise<PeerReply>;

/** The answer a server sends: its values may be packed strings ({@link WireBytes}). */
export type PeerReply = PeerResponse<WireBytes>;

/** Per-request options of {@link PeerTransport.request}. */
export interface PeerRequestOptions {
  /** Deadline for the whole request, connecting included; past it the request rejects with `E_TIMEOUT`. */
  timeoutMs: number;
  /** Aborting rejects the request with `E_ABORTED` (the peer is not told). */
  signal?: AbortSignal;
  /** Carried to the peer's handler as its `meta` argument. */
  meta?: Record<string, string>;
  /**
   * Write the request to the socket at once, with the requests queued before it on the same
   * connection, instead of with the rest of the tick's requests at its end. For a request that
   * already carries a whole batch (a `getMany`'s keys for one owner): at the end of the tick it
   * would wait behind every answer the tick still has to decode. Each such request costs a write
   * of its own, so not for many small requests sent in a loop. A hint: a connection that waits
   * for `drain` or is still being opened sends it when it can, and a transport may ignore it.
   * Default false.
   */
  sendNow?: boolean;
}

/**
 * Talks to other nodes: serves their requests and sends ours over one persistent, multiplexed
 * connection per peer.
 */
export interface PeerTransport {
  /**
   * Starts the listener (port 0 picks a free port); returns the bound address.
   *
   * @throws DistCacheError `E_PEER_UNAVAILABLE` when the address cannot be bound,
   *   `E_INVALID_OPTION` when called twice or after `close()`
   */
  listen(handler: PeerRequestHandler, events?: PeerTransportEvents): Promise<PeerAddress>;
  /**
   * Sends one request over the persistent connection to `peer`, connecting and handshaking on first
   * use. A remote `error` response is returned as a response, not thrown.
   *
   * @throws DistCacheError `E_PEER_UNAVAILABLE` (cannot connect, connection lost, in reconnect
   *   backoff, transport closed), `E_TIMEOUT`, `E_ABORTED`, `E_TOO_MANY_REQUESTS` (in-flight limit),
   *   `E_PROTOCOL` (handshake refused, malformed reply, frame over the size limit)
   */
  request(peer: PeerAddress, request: PeerRequest, options: PeerRequestOptions): Promise<PeerResponse>;
  /**
   * Closes the connection to `peer` and forgets it (the peer left the cluster); its pending
   * requests fail with `E_PEER_UNAVAILABLE`. A later request to the same address connects anew.
   * Without it, a cluster whose members come and go at new addresses (pods) would keep a client
   * and, for a peer that is still up, a socket for every address it ever saw.
   */
  disconnect?(peer: PeerAddress): void;
  /**
   * The last time (clock ms) any bytes arrived from `peer`, on the connection to it or on one it
   * opened to this node; `undefined` when never. Any traffic proves a peer alive, not only answered
   * pings: a busy peer whose pongs queue behind data is not silent.
   */
  lastHeardFrom?(peer: PeerAddress): number | undefined;
  /** Closes the listener and every connection; pending requests fail at once. Idempotent. */
  close(): Promise<void>;
}

/** What the listener reports besides requests. */
export interface PeerTransportEvents {
  /**
   * A peer completed a handshake on a connection it opened to this node. `restarted` is true when
   * the same address announced another incarnation before: the peer's process restarted, and the
   * transport already dropped its connection and reconnect backoff to it.
   */
  onHello?(from: PeerIdentity, restarted: boolean): void;
}

/** Most meta entries a request may carry. */
export const MAX_META_ENTRIES = 32;

/**
 * Most keys one GET_MANY may ask for (`clusterOptions.maxBatchKeys` is held under it). Each key of a
 * GET_MANY can start a data-source load on the owner and adds a value to one answer, so a request
 * of a few kilobytes must not ask for more than a bounded amount of work: a larger one is answered
 * `E_PROTOCOL`, and the connection stays.
 */
export const MAX_GET_MANY_KEYS = 4096;
