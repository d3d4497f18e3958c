// Entry point distcache-core/kubernetes: peers from the Kubernetes API (pods by label selector,
// Running and Ready only). Its client, @kubernetes/client-node, is an optional peer dependency
// loaded by initialize(), so importing this entry point never requires it.
export { kubernetesDiscovery } from './kubernetes.discovery';
export {
  DEFAULT_KUBERNETES_MAX_RETRY_DELAY,
  DEFAULT_KUBERNETES_NAMESPACE,
  DEFAULT_KUBERNETES_PORT_NAME,
  DEFAULT_KUBERNETES_REQUEST_TIMEOUT,
  DEFAULT_KUBERNETES_RETRY_DELAY,
  DEFAULT_KUBERNETES_WATCH_TIMEOUT,
  resolveKubernetesDiscoveryOptions,
  type KubeConfigSource,
  type KubernetesDiscoveryOptions,
  type ResolvedKubernetesDiscoveryOptions,
} from './kubernetes.options';
