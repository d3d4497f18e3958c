// A stand-in for the Kubernetes API server, because none can run on these machines (no cluster, no
// Docker). It is a node:http server on a free loopback port speaking the part of the API that
// kubernetesDiscovery uses, so the tests drive the real @kubernetes/client-node:
//   GET /api/v1/namespaces/{ns}/pods?labelSelector=...                 list, with resourceVersion
//   GET /api/v1/namespaces/{ns}/pods?watch=true&resourceVersion=N&...  watch: newline-delimited
//       JSON events (ADDED / MODIFIED / DELETED), kept open; a pod entering or leaving the selector
//       shows as ADDED / DELETED, as the real server does.
// Resource versions are one counter for every change, like etcd's revision. Test controls add,
// change and delete pods, stall or drop watch connections, fail watches, and expire resource
// versions (an ERROR event with code 410, or an HTTP 410 on the next watch) so clients must re-list.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** A pod as a test describes it; everything but the name has a "healthy member" default. */
export interface FakePod {
  name: string;
  /** @default 'default' */
  namespace?: string;
  /** @default { app: 'distcache' } */
  labels?: Record<string, string>;
  /** Pod IP; `null` for a pod not scheduled yet. @default '127.0.0.1' */
  ip?: string | null;
  /** @default 'Running' */
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  /** Condition Ready=True. @default true */
  ready?: boolean;
  /** Container ports. @default [{ name: 'distcache', containerPort: 3320 }] */
  ports?: Array<{ name?: string; containerPort: number }>;
  /** `metadata.deletionTimestamp` set (graceful termination in progress). @default false */
  terminating?: boolean;
}

/** A request the fake answered. */
export interface FakeRequest {
  readonly kind: 'list' | 'watch';
  readonly namespace: string;
  readonly labelSelector: string | undefined;
  readonly resourceVersion: string | undefined;
  readonly status: number;
  /** Every query parameter as sent. */
  readonly params: Readonly<Record<string, string>>;
}

type PodObject = Record<string, unknown>;
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Stored {
  readonly spec: Required<Omit<FakePod, 'ip'>> & { ip: string | null };
  readonly rv: number;
}

interface Change {
  readonly rv: number;
  readonly namespace: string;
  readonly type: EventType;
  readonly before: Stored | undefined;
  readonly after: Stored;
}

interface OpenWatch {
  readonly response: ServerResponse;
  readonly namespace: string;
  readonly matches: (labels: Record<string, string>) => boolean;
  suspended: boolean;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

function podObject({ spec, rv }: Stored): PodObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      uid: randomUUID(),
      labels: spec.labels,
      resourceVersion: String(rv),
      ...(spec.terminating ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'registry.example/app:1',
          ports: spec.ports.map((port) => ({ ...port, protocol: 'TCP' })),
        },
      ],
    },
    status: {
      phase: spec.phase,
      ...(spec.ip === null ? {} : { podIP: spec.ip, podIPs: [{ ip: spec.ip }] }),
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: spec.ready ? 'True' : 'False' },
      ],
    },
  };
}

/** Equality-based selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`), which is all the tests use. */
function parseSelector(
  selector: string | undefined,
): ((labels: Record<string, string>) => boolean) | undefined {
  if (selector === undefined || selector.trim() === '') return () => true;
  if (selector.includes('(')) return undefined;
  const tests = selector.split(',').map((raw) => {
    const requirement = raw.trim();
    const match = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(requirement);
    if (match !== null) {
      const [, name, op, value] = match as unknown as [string, string, string, string];
      return (labels: Record<string, string>) => (op === '!=') !== (labels[name] === value);
    }
    if (requirement.startsWith('!'))
      return (labels: Record<string, string>) => !(requirement.slice(1) in labels);
    return (labels: Record<string, string>) => requirement in labels;
  });
  return (labels) => tests.every((test) => test(labels));
}

function status(response: ServerResponse, code: number, reason: string, message: string): void {
  response.writeHead(code, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

export class FakeKubeApi {
  /** Every request answered, in order. */
  readonly requests: FakeRequest[] = [];
  private revision = 1_000;
  private compactedBelow = 0;
  private expiredAs: 'event' | 'status' = 'event';
  private readonly pods = new Map<string, Stored>();
  private readonly history: Change[] = [];
  private readonly watches = new Set<OpenWatch>();
  private watchFailures: number[] = [];
  private listFailures: number[] = [];

  private readonly server: Server = createServer((request, response) => this.handle(request, response));
  private listeningPort = 0;

  private constructor() {}

  /** Starts the fake on a free loopback port. */
  static async start(): Promise<FakeKubeApi> {
    const api = new FakeKubeApi();
    await new Promise<void>((resolve, reject) => {
      api.server.once('error', reject);
      api.server.listen(0, '127.0.0.1', resolve);
    });
    api.listeningPort = (api.server.address() as AddressInfo).port;
    return api;
  }

  get port(): number {
    return this.listeningPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * A KubeConfig built in code that points the real client at this fake: plain HTTP, no
   * credentials. (client-node 1.x refuses an http:// server unless skipTLSVerify is set.)
   */
  kubeConfig(namespace?: string): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace }],
      currentContext: 'fake',
    });
    return kubeConfig;
  }

  /** A kubeconfig file whose current context is unreachable and whose context `fake` is this server. */
  kubeconfigYaml(namespace: string): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: unreachable',
      '  cluster: { server: "http://127.0.0.1:9", insecure-skip-tls-verify: true }',
      '- name: fake',
      `  cluster: { server: "${this.url}", insecure-skip-tls-verify: true }`,
      'users:',
      '- name: fake',
      '  user: {}',
      'contexts:',
      '- name: unreachable',
      '  context: { cluster: unreachable, user: fake }',
      '- name: fake',
      `  context: { cluster: fake, user: fake, namespace: ${namespace} }`,
      'current-context: unreachable',
      '',
    ].join('\n');
  }

  /** Creates a pod (an ADDED event). */
  addPod(pod: FakePod): void {
    const namespace = pod.namespace ?? 'default';
    if (this.pods.has(key(namespace, pod.name))) throw new Error(`pod ${pod.name} exists`);
    this.record('ADDED', namespace, undefined, {
      name: pod.name,
      namespace,
      labels: pod.labels ?? { app: 'distcache' },
      ip: pod.ip === undefined ? '127.0.0.1' : pod.ip,
      phase: pod.phase ?? 'Running',
      ready: pod.ready ?? true,
      ports: pod.ports ?? [{ name: 'distcache', containerPort: 3320 }],
      terminating: pod.terminating ?? false,
    });
  }

  /** Changes a pod (a MODIFIED event). */
  updatePod(name: string, patch: Partial<Omit<FakePod, 'name' | 'namespace'>>, namespace = 'default'): void {
    const before = this.pods.get(key(namespace, name));
    if (before === undefined) throw new Error(`no pod ${name}`);
    this.record('MODIFIED', namespace, before, { ...before.spec, ...patch });
  }

  /** Deletes a pod (a DELETED event). */
  deletePod(name: string, namespace = 'default'): void {
    const before = this.pods.get(key(namespace, name));
    if (before === undefined) throw new Error(`no pod ${name}`);
    this.record('DELETED', namespace, before, before.spec);
  }

  /** Watches open right now. */
  get openWatches(): number {
    return this.watches.size;
  }

  /** Requests of one kind so far. */
  count(kind: 'list' | 'watch'): number {
    return this.requests.filter((request) => request.kind === kind).length;
  }

  /** The resource version of the latest change. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /** Sends a BOOKMARK event (the current resource version, no object change) to open watches. */
  bookmark(): void {
    const object = { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(this.revision) } };
    for (const watch of this.watches)
      watch.response.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
  }

  /** Ends every open watch cleanly, as the API server does when `timeoutSeconds` runs out. */
  endWatches(): void {
    for (const watch of [...this.watches]) {
      watch.response.end();
      this.watches.delete(watch);
    }
  }

  /** Open watches stop receiving events (a stalled connection); later watches are not affected. */
  suspendWatches(): void {
    for (const watch of this.watches) watch.suspended = true;
  }

  /**
   * Compacts history: every resource version handed out so far becomes too old. `event`: open
   * watches get an ERROR event with code 410 and are closed, as the API server does. `status`:
   * open watches are closed cleanly and a watch from an old version gets an HTTP 410 response.
   */
  expireResourceVersions(as: 'event' | 'status' = 'event'): void {
    this.revision += 1;
    this.compactedBelow = this.revision;
    this.expiredAs = as;
    for (const watch of [...this.watches]) {
      if (as === 'event') this.writeExpired(watch.response);
      watch.response.end();
      this.watches.delete(watch);
    }
  }

  /** The next `count` watch requests fail with HTTP `code`. */
  failWatches(count: number, code = 500): void {
    this.watchFailures.push(...Array.from({ length: count }, () => code));
  }

  /** The next `count` list requests fail with HTTP `code`. */
  failLists(count: number, code = 500): void {
    this.listFailures.push(...Array.from({ length: count }, () => code));
  }

  /** Forgets the injected failures not yet served. */
  heal(): void {
    this.watchFailures = [];
    this.listFailures = [];
  }

  /** Cuts every open watch connection (a network failure, not a clean end). */
  dropWatches(): void {
    for (const watch of [...this.watches]) {
      watch.response.socket?.destroy();
      this.watches.delete(watch);
    }
  }

  async close(): Promise<void> {
    for (const watch of this.watches) watch.response.socket?.destroy();
    this.watches.clear();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private record(type: EventType, namespace: string, before: Stored | undefined, spec: Stored['spec']): void {
    this.revision += 1;
    const after: Stored = { spec, rv: this.revision };
    if (type === 'DELETED') this.pods.delete(key(namespace, spec.name));
    else this.pods.set(key(namespace, spec.name), after);
    const change: Change = { rv: this.revision, namespace, type, before, after };
    this.history.push(change);
    for (const watch of this.watches) if (!watch.suspended) this.send(watch, change);
  }

  private send(watch: OpenWatch, change: Change): void {
    if (watch.namespace !== change.namespace) return;
    const was = change.before !== undefined && watch.matches(change.before.spec.labels);
    const is = change.type !== 'DELETED' && watch.matches(change.after.spec.labels);
    let type: EventType | undefined;
    if (change.type === 'DELETED') type = was ? 'DELETED' : undefined;
    else if (was && is) type = 'MODIFIED';
    else if (is) type = 'ADDED';
    else if (was) type = 'DELETED';
    if (type !== undefined) {
      watch.response.write(`${JSON.stringify({ type, object: podObject(change.after) })}\n`);
    }
  }

  private writeExpired(response: ServerResponse): void {
    const object = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'too old resource version',
      reason: 'Expired',
      code: 410,
    };
    response.write(`${JSON.stringify({ type: 'ERROR', object })}\n`);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url);
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    if (request.method !== 'GET' || match === null) {
      status(response, 404, 'NotFound', `the fake serves no ${request.method} ${url.pathname}`);
      return;
    }
    const namespace = decodeURIComponent(match[1]!);
    const labelSelector = url.searchParams.get('labelSelector') ?? undefined;
    const resourceVersion = url.searchParams.get('resourceVersion') ?? undefined;
    const watching = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
    const log = (code: number) =>
      this.requests.push({
        kind: watching ? 'watch' : 'list',
        namespace,
        labelSelector,
        resourceVersion,
        status: code,
        params: Object.fromEntries(url.searchParams),
      });
    const matches = parseSelector(labelSelector);
    if (matches === undefined) {
      log(400);
      status(response, 400, 'BadRequest', 'the fake supports equality-based selectors only');
      return;
    }
    if (!watching) {
      const listFailure = this.listFailures.shift();
      if (listFailure !== undefined) {
        log(listFailure);
        status(
          response,
          listFailure,
          listFailure === 403 ? 'Forbidden' : 'InternalError',
          'injected list failure',
        );
        return;
      }
      log(200);
      const items = [...this.pods.values()]
        .filter((pod) => pod.spec.namespace === namespace && matches(pod.spec.labels))
        .map(podObject);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'PodList',
          metadata: { resourceVersion: String(this.revision) },
          items,
        }),
      );
      return;
    }
    const failure = this.watchFailures.shift();
    if (failure !== undefined) {
      log(failure);
      status(response, failure, 'InternalError', 'injected watch failure');
      return;
    }
    const from =
      resourceVersion === undefined || resourceVersion === '' ? undefined : Number(resourceVersion);
    if (from !== undefined && from < this.compactedBelow && this.expiredAs === 'status') {
      log(410);
      status(response, 410, 'Expired', `too old resource version: ${from} (${this.compactedBelow})`);
      return;
    }
    log(200);
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    response.flushHeaders();
    if (from !== undefined && from < this.compactedBelow) {
      this.writeExpired(response);
      response.end();
      return;
    }
    const watch: OpenWatch = { response, namespace, matches, suspended: false };
    if (from === undefined) {
      // No version: the current state as synthetic ADDED events, then changes.
      for (const pod of this.pods.values()) {
        const change: Change = {
          rv: pod.rv,
          namespace: pod.spec.namespace,
          type: 'ADDED',
          before: undefined,
          after: pod,
        };
        this.send(watch, change);
      }
    } else {
      for (const change of this.history) if (change.rv > from) this.send(watch, change);
    }
    this.watches.add(watch);
    response.on('close', () => this.watches.delete(watch));
  }
}
