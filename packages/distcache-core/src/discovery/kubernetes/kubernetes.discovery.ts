import { setMaxListeners } from 'node:events';
import type { DistCacheError } from '../../errors/distcache-error';
import { discoveryFailed } from '../../errors/messages';
import type { DiscoveredPeer, DiscoveryProvider } from '../discovery';
import {
  buildKubeConfig,
  contextNamespace,
  importKubernetesClient,
  type KubernetesClientImporter,
  kubernetesPodApi,
  loadKubernetesClient,
} from './kube-client';
import {
  DEFAULT_KUBERNETES_NAMESPACE,
  type KubernetesDiscoveryOptions,
  type ResolvedKubernetesDiscoveryOptions,
  resolveKubernetesDiscoveryOptions,
} from './kubernetes.options';
import { PodListWatch } from './pod-list-watch';

const NAME = 'kubernetes';

/** Seams for tests; not part of the public entry point. */
export interface KubernetesDiscoveryInternals {
  /** Loads `@kubernetes/client-node` (a test makes it fail as a missing install would). */
  readonly importClient?: KubernetesClientImporter;
}

type Peers = (peers: DiscoveredPeer[]) => void;

class KubernetesDiscovery implements DiscoveryProvider {
  readonly name = NAME;
  private listWatch: PodListWatch | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;
  private readonly lifetime = new AbortController();
  private readonly listeners = new Set<Peers>();

  constructor(
    private readonly options: ResolvedKubernetesDiscoveryOptions,
    private readonly importClient: KubernetesClientImporter,
  ) {
    setMaxListeners(0, this.lifetime.signal);
  }

  initialize(signal: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (this.listWatch !== undefined) return Promise.resolve();
    // A failed initialize leaves nothing behind, so the engine may simply call it again.
    this.opening ??= this.open(signal).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  // Readiness is the platform's job: a pod is a candidate once Kubernetes reports it Ready.
  register(): Promise<void> {
    return Promise.resolve();
  }

  deregister(): Promise<void> {
    return Promise.resolve();
  }

  discoverPeers(): Promise<DiscoveredPeer[]> {
    if (this.closed) return Promise.reject(closedError());
    const listWatch = this.listWatch;
    if (listWatch === undefined) {
      return Promise.reject(discoveryFailed(NAME, 'initialize() has not completed'));
    }
    const failure = listWatch.lastFailure();
    if (failure !== undefined) return Promise.reject(stale(failure));
    return Promise.resolve(listWatch.peers());
  }

  watch(listener: Peers): () => void {
    // Wrapped so the same function can subscribe twice and unsubscribe each one separately.
    const entry: Peers = (peers) => listener(peers);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.lifetime.abort();
    this.listeners.clear();
    await this.opening?.catch(() => undefined);
    const listWatch = this.listWatch;
    this.listWatch = undefined;
    await listWatch?.stop();
  }

  private async open(signal: AbortSignal): Promise<void> {
    const client = await loadKubernetesClient(this.importClient);
    const kubeConfig = buildKubeConfig(client, this.options.config);
    const namespace = this.options.namespace ?? contextNamespace(kubeConfig) ?? DEFAULT_KUBERNETES_NAMESPACE;
    const listWatch = new PodListWatch({
      api: kubernetesPodApi(client, kubeConfig, {
        namespace,
        labelSelector: this.options.labelSelector,
        requestTimeoutMs: this.options.requestTimeoutMs,
        watchTimeoutMs: this.options.watchTimeoutMs,
      }),
      portName: this.options.portName,
      retryDelayMs: this.options.retryDelayMs,
      maxRetryDelayMs: this.options.maxRetryDelayMs,
      onChange: (peers) => this.notify(peers),
    });
    try {
      await listWatch.start(AbortSignal.any([signal, this.lifetime.signal]));
    } catch (error) {
      await listWatch.stop();
      throw this.closed ? closedError() : error;
    }
    if (this.closed) {
      await listWatch.stop();
      throw closedError();
    }
    this.listWatch = listWatch;
  }

  private notify(peers: DiscoveredPeer[]): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(peers.map((peer) => ({ ...peer })));
      } catch {
        // A listener's failure is its own; the watch and the other listeners go on.
      }
    }
  }
}

function closedError(): DistCacheError {
  return discoveryFailed(NAME, 'the provider is closed');
}

function stale(failure: DistCacheError): DistCacheError {
  return discoveryFailed(NAME, `the pod list may be out of date, retrying (${failure.message})`, failure);
}

/**
 * {@link kubernetesDiscovery} with test seams. Internal: the public entry point does not export it.
 * @throws DistCacheError `E_INVALID_OPTION` naming the field
 */
export function createKubernetesDiscovery(
  options: KubernetesDiscoveryOptions,
  internals: KubernetesDiscoveryInternals = {},
): DiscoveryProvider {
  return new KubernetesDiscovery(
    resolveKubernetesDiscoveryOptions(options),
    internals.importClient ?? importKubernetesClient,
  );
}

/**
 * Discovers peers from the Kubernetes API: the pods of a namespace that match a label selector and
 * are Running and Ready, each at its pod IP and its container port named `portName` (node name:
 * the pod name). It lists the pods, then watches them and pushes every change to the engine at
 * once, so a pod that turns unready leaves the ring without waiting for `discoveryInterval`.
 * Expired watches (410 Gone) and API failures are recovered by re-listing, with backoff.
 *
 * Needs the optional peer dependency `@kubernetes/client-node` (^1.4.0), loaded at `initialize()`,
 * and a ServiceAccount allowed to get, list and watch pods. `register`/`deregister` do nothing:
 * the readiness probe decides when a pod joins, and a stopping pod leaves through the engine's
 * leave notice and then its deletion.
 *
 * @throws DistCacheError `E_INVALID_OPTION` naming the field, at construction;
 * `initialize()` rejects with `E_MISSING_DEPENDENCY` when `@kubernetes/client-node` is not
 * installed and `E_DISCOVERY_FAILED` when the first list fails (RBAC, network, bad kubeconfig);
 * `discoverPeers()` rejects with `E_DISCOVERY_FAILED` after `close()`, and while the list may be
 * stale because the API server is failing (the engine then keeps its current members).
 * @example
 * import { DistCacheEngine } from 'distcache-core';
 * import { kubernetesDiscovery } from 'distcache-core/kubernetes';
 *
 * const engine = new DistCacheEngine({
 *   host: '0.0.0.0',
 *   port: 3320,
 *   advertiseHost: process.env.POD_IP,
 *   discovery: kubernetesDiscovery({ labelSelector: 'app=catalogue', portName: 'distcache' }),
 *   keySpaces: [products],
 * });
 * @example
 * // Outside the cluster, against the current kubectl context's cluster:
 * kubernetesDiscovery({ labelSelector: 'app=catalogue', namespace: 'shop', context: 'staging' });
 */
export function kubernetesDiscovery(options: KubernetesDiscoveryOptions): DiscoveryProvider {
  return createKubernetesDiscovery(options);
}
