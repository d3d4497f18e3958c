import { setMaxListeners } from 'node:events';
import type { DistCacheError } from '../../errors/distcache-error';
import type { DiscoveredPeer } from '../discovery';
import type { PodApi, PodWatchOutcome } from './pod-api';
import { objectName, podPeer, resourceVersionOf } from './pod-peer';

/** A watch that delivered an event or stayed open this long was healthy: the backoff starts over. */
const HEALTHY_WATCH_MS = 1_000;

export interface PodListWatchOptions {
  readonly api: PodApi;
  readonly portName: string;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  /** Called with the full candidate list whenever it changes. */
  readonly onChange: (peers: DiscoveredPeer[]) => void;
}

interface WatchSession {
  readonly outcome: PodWatchOutcome;
  readonly healthy: boolean;
}

/**
 * The candidate list, kept current the way Kubernetes controllers do it: list, then watch from the
 * list's resource version, applying ADDED / MODIFIED / DELETED. A watch the server closes resumes
 * from the last resource version seen; an expired one (410 Gone) or a failed one is replaced by a
 * fresh list (which also reveals deletions whose events were lost) and a new watch, with
 * exponential backoff and jitter while failures repeat.
 */
export class PodListWatch {
  private readonly candidates = new Map<string, DiscoveredPeer>();
  private resourceVersion: string | undefined;
  private published = '';
  private failure: DistCacheError | undefined;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private stopWatch: (() => void) | undefined;

  constructor(private readonly options: PodListWatchOptions) {
    setMaxListeners(0, this.stopping.signal);
  }

  /**
   * Lists the pods once, then keeps watching in the background.
   * @throws DistCacheError `E_DISCOVERY_FAILED` when the first list fails
   */
  async start(signal: AbortSignal): Promise<void> {
    await this.list(AbortSignal.any([signal, this.stopping.signal]));
    this.loop ??= this.run();
  }

  /** The candidates, sorted by pod name. */
  peers(): DiscoveredPeer[] {
    const seen = new Set<string>();
    const peers: DiscoveredPeer[] = [];
    for (const name of [...this.candidates.keys()].sort()) {
      const peer = this.candidates.get(name)!;
      const id = `${peer.host}:${peer.port}`;
      if (seen.has(id)) continue;
      seen.add(id);
      peers.push({ ...peer });
    }
    return peers;
  }

  /** Why the list may be out of date (the last list or watch failed and a retry is pending). */
  lastFailure(): DistCacheError | undefined {
    return this.failure;
  }

  /** Ends the watch and the retry loop. Idempotent. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.stopWatch?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const stopped = this.stopping.signal;
    let failures = 0;
    let relist = false;
    while (!stopped.aborted) {
      if (relist) {
        try {
          await this.list(stopped);
          relist = false;
        } catch (error) {
          if (stopped.aborted) return;
          this.failure = error as DistCacheError;
          failures += 1;
          await this.pause(failures);
          continue;
        }
      }
      const session = await this.watch();
      if (stopped.aborted) return;
      if (session.healthy) failures = 0;
      const { outcome } = session;
      switch (outcome.kind) {
        case 'closed':
          // Normal end (server timeout): resume at once, unless the server keeps closing at once.
          if (!session.healthy) {
            failures += 1;
            await this.pause(failures);
          }
          break;
        case 'expired':
          relist = true;
          this.resourceVersion = undefined;
          failures += 1;
          if (failures > 1) await this.pause(failures - 1);
          break;
        case 'failed':
          relist = true;
          this.failure = outcome.error;
          failures += 1;
          await this.pause(failures);
          break;
        default: {
          const unreachable: never = outcome;
          throw new Error(`unknown watch outcome ${String(unreachable)}`);
        }
      }
    }
  }

  /** Replaces the whole candidate map: pods deleted while no watch ran disappear here. */
  private async list(signal: AbortSignal): Promise<void> {
    const list = await this.options.api.list(signal);
    this.candidates.clear();
    for (const pod of list.items) this.upsert(pod);
    this.resourceVersion = list.resourceVersion;
    this.failure = undefined;
    this.publish();
  }

  private watch(): Promise<WatchSession> {
    return new Promise((resolve) => {
      const openedAt = performance.now();
      let progressed = false;
      this.stopWatch = this.options.api.watch(this.resourceVersion, {
        onOpen: () => {
          this.failure = undefined;
        },
        onEvent: (type, object) => {
          if (this.apply(type, object)) progressed = true;
        },
        onEnd: (outcome) => {
          this.stopWatch = undefined;
          resolve({ outcome, healthy: progressed || performance.now() - openedAt >= HEALTHY_WATCH_MS });
        },
      });
    });
  }

  private apply(type: string, object: unknown): boolean {
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(object);
        break;
      case 'DELETED': {
        const name = objectName(object);
        if (name !== undefined) this.candidates.delete(name);
        break;
      }
      case 'BOOKMARK':
        break;
      default:
        return false;
    }
    this.resourceVersion = resourceVersionOf(object) ?? this.resourceVersion;
    this.publish();
    return true;
  }

  private upsert(pod: unknown): void {
    const name = objectName(pod);
    if (name === undefined) return;
    const peer = podPeer(pod, this.options.portName);
    if (peer === undefined) this.candidates.delete(name);
    else this.candidates.set(name, peer);
  }

  /** Tells the listener when the candidate list changed (pod status churn alone does not count). */
  private publish(): void {
    const peers = this.peers();
    const signature = peers.map((peer) => `${peer.nodeName ?? ''} ${peer.host} ${peer.port}`).join('\n');
    if (signature === this.published) return;
    this.published = signature;
    this.options.onChange(peers);
  }

  /** Sleeps for the `attempt`-th backoff delay, or until stopped. */
  private pause(attempt: number): Promise<void> {
    const { retryDelayMs, maxRetryDelayMs } = this.options;
    const ceiling = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** Math.min(attempt - 1, 30));
    const delay = ceiling * (0.5 + Math.random() / 2);
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, delay);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
