import { aborted, timeout } from '../errors/messages';
import type { Clock, TimerHandle } from '../util/clock';
import type { PeerRequest, PeerRequestMeta, PeerResponse } from './transport';

/**
 * One request of a peer client, from `request()` until it settles: the request, its deadline timer
 * and its abort listener. It settles exactly once; `onDone` lets the owner forget it.
 */
export class PendingRequest {
  /** Request id on the wire; 0 until the frame is sent. */
  id = 0;
  private settled = false;
  private timer: TimerHandle;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    readonly request: PeerRequest,
    readonly meta: PeerRequestMeta | undefined,
    private readonly resolveFn: (response: PeerResponse) => void,
    private readonly rejectFn: (error: unknown) => void,
    private readonly onDone: (pending: PendingRequest) => void,
    private readonly clock: Clock,
    operation: string,
    timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.timer = clock.setTimeout(() => this.reject(timeout(operation, timeoutMs)), timeoutMs);
    if (signal !== undefined) {
      this.onAbort = () => this.reject(aborted(operation, signal.reason));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  resolve(response: PeerResponse): void {
    if (this.finish()) this.resolveFn(response);
  }

  reject(error: unknown): void {
    if (this.finish()) this.rejectFn(error);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.clock.clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    this.onDone(this);
    return true;
  }
}
