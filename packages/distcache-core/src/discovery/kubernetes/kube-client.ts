import type * as Kubernetes from '@kubernetes/client-node';
import { isDistCacheError } from '../../errors/distcache-error';
import { discoveryFailed, missingDependency } from '../../errors/messages';
import type { KubeConfigSource } from './kubernetes.options';
import type { PodApi, PodWatchEvents, PodWatchOutcome } from './pod-api';
import { statusCodeOf } from './pod-peer';

// Everything that touches @kubernetes/client-node lives here, behind the small PodApi seam.

const PACKAGE = '@kubernetes/client-node';
const PROVIDER = 'kubernetes';
/** The API server should end a watch at `timeoutSeconds`; past this grace the client ends it. */
const WATCHDOG_GRACE_MS = 30_000;

/** The parts of `@kubernetes/client-node` the provider uses. */
export type KubernetesClientModule = Pick<
  typeof Kubernetes,
  'KubeConfig' | 'CoreV1Api' | 'Watch' | 'Observable'
>;

/** Loads the client library; replaced in tests to simulate a missing install. */
export type KubernetesClientImporter = () => Promise<KubernetesClientModule>;

export const importKubernetesClient: KubernetesClientImporter = () => import('@kubernetes/client-node');

function isPackageNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  // Only the package itself: a broken install (a missing transitive dependency) is a different
  // problem and must not be reported as "install @kubernetes/client-node".
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${PACKAGE}'`)
  );
}

/**
 * Imports the client library.
 * @throws DistCacheError `E_MISSING_DEPENDENCY` when it is not installed, `E_DISCOVERY_FAILED`
 * when it is installed but fails to load
 */
export async function loadKubernetesClient(
  importer: KubernetesClientImporter,
): Promise<KubernetesClientModule> {
  try {
    return await importer();
  } catch (error) {
    if (isPackageNotFound(error)) throw missingDependency('kubernetesDiscovery', PACKAGE);
    throw discoveryFailed(PROVIDER, `"${PACKAGE}" is installed but failed to load (use ^1.4.0)`, error);
  }
}

/**
 * Builds the `KubeConfig` the options ask for.
 * @throws DistCacheError `E_DISCOVERY_FAILED` when it cannot be loaded or names no cluster
 */
export function buildKubeConfig(
  client: KubernetesClientModule,
  source: KubeConfigSource,
): Kubernetes.KubeConfig {
  if (source.kind === 'object') return source.kubeConfig;
  const kubeConfig = new client.KubeConfig();
  try {
    if (source.kind === 'in-cluster') {
      if (process.env.KUBERNETES_SERVICE_HOST === undefined) {
        throw discoveryFailed(
          PROVIDER,
          'not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset); pass "kubeconfig" or "context" to run outside a cluster',
        );
      }
      kubeConfig.loadFromCluster();
    } else {
      if (source.path === undefined) kubeConfig.loadFromDefault();
      else kubeConfig.loadFromFile(source.path);
      if (source.context !== undefined) {
        if (kubeConfig.getContextObject(source.context) === null) {
          throw discoveryFailed(PROVIDER, `the kubeconfig has no context "${source.context}"`);
        }
        kubeConfig.setCurrentContext(source.context);
      }
    }
  } catch (error) {
    if (isDistCacheError(error)) throw error;
    throw discoveryFailed(PROVIDER, `cannot load the kubeconfig: ${messageOf(error)}`, error);
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw discoveryFailed(PROVIDER, 'the kubeconfig has no current cluster');
  }
  return kubeConfig;
}

/** The namespace of the current context (in a pod: the pod's own namespace), if any. */
export function contextNamespace(kubeConfig: Kubernetes.KubeConfig): string | undefined {
  const namespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace?.trim();
  return namespace === undefined || namespace === '' ? undefined : namespace;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A human explanation of a failed request, with the fix for the usual RBAC mistake. */
function describeFailure(error: unknown, namespace: string): string {
  const code = statusCodeOf(error);
  if (code === undefined) return messageOf(error);
  const { body, message } = error as { body?: unknown; message?: unknown };
  // A Status object (watch ERROR event) has its own message; an ApiException carries the Status as JSON text.
  let detail = !(error instanceof Error) && typeof message === 'string' ? `: ${message}` : '';
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === 'string') detail = `: ${status.message}`;
    } catch {
      // Not a Status object: the code alone says enough.
    }
  }
  if (code === 401) return `HTTP 401, the API server rejected the credentials${detail}`;
  if (code === 403) {
    return `HTTP 403, this ServiceAccount may not read pods in namespace "${namespace}" (grant get, list and watch on pods with a Role and RoleBinding)${detail}`;
  }
  return `HTTP ${code}${detail}`;
}

// Middleware is the client's only way to hand an AbortSignal to a request; the object-parameter API
// runs it as Observable middleware (the client's own minimal Observable).
function abortableBy(client: KubernetesClientModule, signal: AbortSignal): Kubernetes.ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context) => {
          context.setSignal(signal);
          return new client.Observable(Promise.resolve(context));
        },
        post: (context) => new client.Observable(Promise.resolve(context)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/** What the pod API needs to know. */
export interface PodApiTarget {
  readonly namespace: string;
  readonly labelSelector: string;
  readonly requestTimeoutMs: number;
  readonly watchTimeoutMs: number;
}

/** {@link PodApi} over `@kubernetes/client-node`: `CoreV1Api.listNamespacedPod` and `Watch`. */
export function kubernetesPodApi(
  client: KubernetesClientModule,
  kubeConfig: Kubernetes.KubeConfig,
  target: PodApiTarget,
): PodApi {
  const { namespace, labelSelector, requestTimeoutMs, watchTimeoutMs } = target;
  const core = kubeConfig.makeApiClient(client.CoreV1Api);
  const watcher = new client.Watch(kubeConfig);
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  const scope = `pods in namespace "${namespace}" matching "${labelSelector}"`;

  return {
    async list(signal) {
      const deadline = AbortSignal.timeout(requestTimeoutMs);
      try {
        const list = await core.listNamespacedPod(
          { namespace, labelSelector },
          abortableBy(client, AbortSignal.any([signal, deadline])),
        );
        return { items: list.items, resourceVersion: list.metadata?.resourceVersion };
      } catch (error) {
        const problem = deadline.aborted
          ? `no answer within ${requestTimeoutMs}ms`
          : signal.aborted
            ? 'aborted'
            : describeFailure(error, namespace);
        throw discoveryFailed(PROVIDER, `listing ${scope} failed: ${problem}`, error);
      }
    },

    watch(resourceVersion: string | undefined, events: PodWatchEvents): () => void {
      let ended = false;
      let controller: AbortController | undefined;
      const timeoutSeconds = Math.ceil((watchTimeoutMs / 1_000) * (1 + Math.random()));
      const end = (outcome: PodWatchOutcome): void => {
        if (ended) return;
        ended = true;
        clearTimeout(watchdog);
        controller?.abort();
        events.onEnd(outcome);
      };
      const failed = (error: unknown): PodWatchOutcome =>
        statusCodeOf(error) === 410
          ? { kind: 'expired' }
          : {
              kind: 'failed',
              error: discoveryFailed(
                PROVIDER,
                `watching ${scope} failed: ${describeFailure(error, namespace)}`,
                error,
              ),
            };
      const watchdog = setTimeout(() => end({ kind: 'closed' }), timeoutSeconds * 1_000 + WATCHDOG_GRACE_MS);
      watchdog.unref();
      void watcher
        .watch(
          path,
          { labelSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
          (type: string, object: unknown) => {
            if (ended) return;
            // An ERROR event carries a Status; 410 means the resource version is too old.
            if (type === 'ERROR') end(failed(object));
            else events.onEvent(type, object);
          },
          (error: unknown) => end(error === null || error === undefined ? { kind: 'closed' } : failed(error)),
        )
        .then(
          (opened) => {
            controller = opened;
            if (ended) opened.abort();
            else events.onOpen();
          },
          (error: unknown) => end(failed(error)),
        );
      return () => end({ kind: 'closed' });
    },
  };
}
