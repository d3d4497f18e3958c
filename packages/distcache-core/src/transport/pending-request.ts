import { aborted, timeout } from '../errors/messages';
import type { ClientConnection } from './client-connection';
import type { PeerRequest, PeerRequestMeta, PeerResponse } from './transport';

/**
 * One request of a peer client, from `request()` until it settles: the request, its deadline (the
 * owner's deadline timer calls {@link expire}) and its abort listener. It settles exactly once;
 * `onDone` lets the owner forget it.
 */
export class PendingRequest {
  /** Request id on the wire; 0 until the frame is sent. */
  id = 0;
  /** The connection the request was sent on, once sent. */
  connection: ClientConnection | undefined;
  private settled = false;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    readonly request: PeerRequest,
    readonly meta: PeerRequestMeta | undefined,
    /** Clock time past which the request fails with `E_TIMEOUT`. */
    readonly deadline: number,
    private readonly timeoutMs: number,
    private readonly peerId: string,
    private readonly resolveFn: (response: PeerResponse) => void,
    private readonly rejectFn: (error: unknown) => void,
    private readonly onDone: (pending: PendingRequest) => void,
    private readonly signal: AbortSignal | undefined,
    /** Written at once rather than at the end of the tick (`PeerRequestOptions.sendNow`). */
    readonly sendNow = false,
  ) {
    if (signal !== undefined) {
      this.onAbort = () => this.reject(aborted(this.operation(), signal.reason));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  resolve(response: PeerResponse): void {
    if (this.finish()) this.resolveFn(response);
  }

  reject(error: unknown): void {
    if (this.finish()) this.rejectFn(error);
  }

  /** Fails the request with `E_TIMEOUT`. */
  expire(): void {
    this.reject(timeout(this.operation(), this.timeoutMs));
  }

  private operation(): string {
    return `peer request "${this.request.op}" to ${this.peerId}`;
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    this.onDone(this);
    return true;
  }
}
