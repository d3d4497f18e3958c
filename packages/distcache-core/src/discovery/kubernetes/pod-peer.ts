import type { DiscoveredPeer } from '../discovery';

// Pods arrive two ways: deserialised by the client (list) and as raw JSON (watch events), so they
// are read as `unknown` and checked field by field.

type Fields = Readonly<Record<string, unknown>>;

function fields(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null ? (value as Fields) : undefined;
}

function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `metadata.name` of a Kubernetes object. */
export function objectName(object: unknown): string | undefined {
  return text(fields(fields(object)?.metadata)?.name);
}

/** `metadata.resourceVersion` of a Kubernetes object or list. */
export function resourceVersionOf(object: unknown): string | undefined {
  return text(fields(fields(object)?.metadata)?.resourceVersion);
}

/**
 * The HTTP status carried by a failure: a `Status` object's `code` (watch ERROR events), an
 * `ApiException`'s `code`, or a watch error's `statusCode`.
 */
export function statusCodeOf(value: unknown): number | undefined {
  const record = fields(value);
  const code = record?.code ?? record?.statusCode;
  return typeof code === 'number' && Number.isInteger(code) ? code : undefined;
}

function isReady(status: Fields): boolean {
  return list(status.conditions).some((condition) => {
    const entry = fields(condition);
    return entry?.type === 'Ready' && entry.status === 'True';
  });
}

function namedPort(spec: Fields | undefined, portName: string): number | undefined {
  for (const container of list(spec?.containers)) {
    for (const port of list(fields(container)?.ports)) {
      const entry = fields(port);
      if (entry?.name !== portName) continue;
      const number = entry.containerPort;
      if (typeof number === 'number' && Number.isInteger(number) && number >= 1 && number <= 65_535) {
        return number;
      }
    }
  }
  return undefined;
}

/**
 * The peer a pod stands for, or `undefined` when the pod is not a candidate: it must be Running,
 * have the condition Ready=True and a pod IP, not be terminating (`deletionTimestamp` set), and
 * expose a container port named `portName`. Host is the pod IP, node name the pod name.
 */
export function podPeer(pod: unknown, portName: string): DiscoveredPeer | undefined {
  const record = fields(pod);
  const metadata = fields(record?.metadata);
  const status = fields(record?.status);
  const nodeName = text(metadata?.name);
  if (metadata === undefined || status === undefined || nodeName === undefined) return undefined;
  // A terminating pod can stay Ready for its whole grace period; it is on its way out.
  if (metadata.deletionTimestamp !== undefined && metadata.deletionTimestamp !== null) return undefined;
  if (status.phase !== 'Running' || !isReady(status)) return undefined;
  const host = text(status.podIP);
  const port = namedPort(fields(record?.spec), portName);
  if (host === undefined || port === undefined) return undefined;
  return { host, port, nodeName };
}
