import type { KubeConfig } from '@kubernetes/client-node';
import { invalidOption } from '../../errors/messages';
import { type OptionFields, optionsObject } from '../../util/options';
import { type Duration, toOrderedMs, toPositiveMs } from '../../util/duration';

/** Options of {@link kubernetesDiscovery}. */
export interface KubernetesDiscoveryOptions {
  /**
   * Label selector of the cache's pods, e.g. `'app=catalogue'` or `'app=catalogue,tier!=canary'`
   * (equality and set-based requirements, as `kubectl -l` takes them). Required: an empty selector
   * would make every pod of the namespace a candidate.
   */
  labelSelector: string;
  /**
   * Namespace of the pods.
   * @default the pod's own namespace in a cluster; otherwise the kubeconfig context's namespace, else `'default'`
   */
  namespace?: string;
  /**
   * Name of the container port that carries the peer protocol (`ports[].name` in the pod spec).
   * Pods without a port of this name are not candidates.
   * @default 'distcache'
   */
  portName?: string;
  /**
   * Where the API server and credentials come from. Unset: the in-cluster configuration (the pod's
   * ServiceAccount token and `KUBERNETES_SERVICE_HOST`). A string: the path of a kubeconfig file.
   * A `KubeConfig` object from `@kubernetes/client-node`: used as is.
   * @default in-cluster
   */
  kubeconfig?: string | KubeConfig;
  /**
   * kubeconfig context to use, for running outside a cluster. Without `kubeconfig` the default
   * kubeconfig is loaded (`$KUBECONFIG`, then `~/.kube/config`). Not allowed with a `KubeConfig`
   * object: set its current context instead.
   */
  context?: string;
  /** First delay before re-listing after a failed list or watch; doubles each time, with jitter. @default '500ms' */
  retryDelay?: Duration;
  /** Longest delay between attempts while the API server keeps failing. @default '30s' */
  maxRetryDelay?: Duration;
  /** Deadline of each list request. @default '10s' */
  requestTimeout?: Duration;
  /**
   * The API server is asked to end each watch after this long (randomised up to twice as long, as
   * client-go does); the watch then resumes from the last resource version. Keeps connections
   * that a proxy dropped silently from going unnoticed.
   * @default '5m'
   */
  watchTimeout?: Duration;
}

/** Where the provider gets its `KubeConfig`. */
export type KubeConfigSource =
  | { readonly kind: 'in-cluster' }
  /** `path` undefined: the default loading rules (`$KUBECONFIG`, `~/.kube/config`). */
  | { readonly kind: 'file'; readonly path: string | undefined; readonly context: string | undefined }
  | { readonly kind: 'object'; readonly kubeConfig: KubeConfig };

/** {@link KubernetesDiscoveryOptions} with defaults filled in and durations in milliseconds. */
export interface ResolvedKubernetesDiscoveryOptions {
  readonly labelSelector: string;
  /** Undefined: decided at `initialize()` from the configuration (see the option). */
  readonly namespace: string | undefined;
  readonly portName: string;
  readonly config: KubeConfigSource;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly requestTimeoutMs: number;
  readonly watchTimeoutMs: number;
}

export const DEFAULT_KUBERNETES_PORT_NAME = 'distcache';
export const DEFAULT_KUBERNETES_NAMESPACE = 'default';
export const DEFAULT_KUBERNETES_RETRY_DELAY = '500ms';
export const DEFAULT_KUBERNETES_MAX_RETRY_DELAY = '30s';
export const DEFAULT_KUBERNETES_REQUEST_TIMEOUT = '10s';
export const DEFAULT_KUBERNETES_WATCH_TIMEOUT = '5m';

const KUBERNETES: OptionFields = {
  what: 'kubernetesDiscovery option',
  fields: [
    'labelSelector',
    'namespace',
    'portName',
    'kubeconfig',
    'context',
    'retryDelay',
    'maxRetryDelay',
    'requestTimeout',
    'watchTimeout',
  ] satisfies ReadonlyArray<keyof KubernetesDiscoveryOptions>,
};

// RFC 1123 label (namespace names) and IANA service name (container port names), as the API
// server validates them.
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const PORT_NAME = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
// Label keys and values; the operator part follows the API server's selector grammar.
const KEY = String.raw`(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?`;
const VALUE = String.raw`(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const REQUIREMENT = new RegExp(
  String.raw`^(?:!?\s*${KEY}|${KEY}\s*(?:==?|!=)\s*${VALUE}|${KEY}\s+(?:in|notin)\s*\(\s*${VALUE}(?:\s*,\s*${VALUE})*\s*\))$`,
);

/**
 * Checks a label selector's syntax, so a typo fails at construction rather than as an HTTP 400 at
 * start. Commas inside `in (...)` lists do not split requirements.
 */
function isLabelSelector(selector: string): boolean {
  const requirements: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < selector.length; index += 1) {
    const char = selector[index];
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (char === ',' && depth === 0) {
      requirements.push(selector.slice(start, index));
      start = index + 1;
    }
    if (depth < 0 || depth > 1) return false;
  }
  requirements.push(selector.slice(start));
  return depth === 0 && requirements.every((requirement) => REQUIREMENT.test(requirement.trim()));
}

function isKubeConfigLike(value: object): value is KubeConfig {
  const candidate = value as Partial<Record<'makeApiClient' | 'getCurrentCluster', unknown>>;
  return typeof candidate.makeApiClient === 'function' && typeof candidate.getCurrentCluster === 'function';
}

function optionalName(value: unknown, path: string, pattern: RegExp, maxLength: number, what: string) {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > maxLength || !pattern.test(value)) {
    throw invalidOption(path, `must be ${what}`, value);
  }
  return value;
}

function resolveConfigSource(kubeconfig: unknown, context: unknown): KubeConfigSource {
  if (context !== undefined && (typeof context !== 'string' || context.trim() === '')) {
    throw invalidOption('discovery.context', 'must be a non-empty kubeconfig context name', context);
  }
  if (kubeconfig === undefined) {
    return context === undefined ? { kind: 'in-cluster' } : { kind: 'file', path: undefined, context };
  }
  if (typeof kubeconfig === 'string') {
    if (kubeconfig.trim() === '') throw invalidOption('discovery.kubeconfig', 'must not be empty');
    return { kind: 'file', path: kubeconfig, context };
  }
  if (typeof kubeconfig === 'object' && kubeconfig !== null && isKubeConfigLike(kubeconfig)) {
    if (context !== undefined) {
      throw invalidOption(
        'discovery.context',
        'cannot be combined with a KubeConfig object: call setCurrentContext() on it instead',
        context,
      );
    }
    return { kind: 'object', kubeConfig: kubeconfig };
  }
  throw invalidOption(
    'discovery.kubeconfig',
    'must be the path of a kubeconfig file or a KubeConfig object from @kubernetes/client-node',
    kubeconfig,
  );
}

/**
 * Fills defaults, converts durations to milliseconds and validates every field. Pure: reads no
 * file and no environment (the namespace default is settled at `initialize()`).
 *
 * @throws DistCacheError `E_INVALID_OPTION` naming the field (`discovery.labelSelector`, ...)
 */
export function resolveKubernetesDiscoveryOptions(
  options: KubernetesDiscoveryOptions,
): ResolvedKubernetesDiscoveryOptions {
  optionsObject(options, 'discovery', KUBERNETES, 'must be an options object with at least a labelSelector');
  const { labelSelector } = options as { labelSelector: unknown };
  if (typeof labelSelector !== 'string' || labelSelector.trim() === '') {
    throw invalidOption(
      'discovery.labelSelector',
      'must be a non-empty label selector such as "app=catalogue"',
      labelSelector,
    );
  }
  if (!isLabelSelector(labelSelector)) {
    throw invalidOption(
      'discovery.labelSelector',
      'is not a valid label selector (expected e.g. "app=catalogue,tier in (cache, api)")',
      labelSelector,
    );
  }
  const namespace = optionalName(
    options.namespace,
    'discovery.namespace',
    DNS_LABEL,
    63,
    'a namespace name (lowercase letters, digits and "-", at most 63 characters)',
  );
  const portName =
    optionalName(
      options.portName,
      'discovery.portName',
      PORT_NAME,
      15,
      'a container port name (lowercase letters, digits and "-", at most 15 characters)',
    ) ?? DEFAULT_KUBERNETES_PORT_NAME;
  if (!/[a-z]/.test(portName) || portName.includes('--')) {
    throw invalidOption(
      'discovery.portName',
      'must contain a letter and no "--", as Kubernetes requires of port names',
      portName,
    );
  }
  const [retryDelayMs, maxRetryDelayMs] = toOrderedMs(
    { value: options.retryDelay ?? DEFAULT_KUBERNETES_RETRY_DELAY, path: 'discovery.retryDelay' },
    { value: options.maxRetryDelay ?? DEFAULT_KUBERNETES_MAX_RETRY_DELAY, path: 'discovery.maxRetryDelay' },
  );
  const watchTimeoutMs = toPositiveMs(
    options.watchTimeout ?? DEFAULT_KUBERNETES_WATCH_TIMEOUT,
    'discovery.watchTimeout',
  );
  if (watchTimeoutMs < 1_000) {
    throw invalidOption(
      'discovery.watchTimeout',
      'must be at least 1s (the API takes whole seconds)',
      options.watchTimeout,
    );
  }
  return Object.freeze({
    labelSelector: labelSelector.trim(),
    namespace,
    portName,
    config: resolveConfigSource(options.kubeconfig, options.context),
    retryDelayMs,
    maxRetryDelayMs,
    requestTimeoutMs: toPositiveMs(
      options.requestTimeout ?? DEFAULT_KUBERNETES_REQUEST_TIMEOUT,
      'discovery.requestTimeout',
    ),
    watchTimeoutMs,
  });
}
