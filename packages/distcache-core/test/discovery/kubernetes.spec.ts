// kubernetesDiscovery with the REAL @kubernetes/client-node against FakeKubeApi
// (test/support/fake-kube-api.ts), a local HTTP server speaking the pod list and watch API. The
// fake stands in for a Kubernetes API server because none can run on these machines; the client,
// its HTTP stack, watch parsing and resource-version handling are all the real ones.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type DiscoveredPeer,
  type DiscoveryProvider,
  DistCacheEngine,
  isDistCacheError,
  type PeerEvent,
} from '../../src';
import { type KubernetesDiscoveryOptions, kubernetesDiscovery } from '../../src/discovery/kubernetes';
import { createKubernetesDiscovery } from '../../src/discovery/kubernetes/kubernetes.discovery';
import { discoveryConformanceChecks, RecordingSource } from '../../src/testing';
import { FAST_CLUSTER, freePorts, keysOwnedByEach, waitUntil } from '../support/cluster';
import { FakeKubeApi } from '../support/fake-kube-api';

const SELECTOR = 'app=distcache';
const signal = () => new AbortController().signal;

let api: FakeKubeApi;
let providers: DiscoveryProvider[] = [];

beforeEach(async () => {
  api = await FakeKubeApi.start();
});
afterEach(async () => {
  await Promise.all(providers.map((provider) => provider.close()));
  providers = [];
  await api.close();
});

function provider(options: Partial<KubernetesDiscoveryOptions> = {}): DiscoveryProvider {
  const created = kubernetesDiscovery({
    labelSelector: SELECTOR,
    kubeconfig: api.kubeConfig(),
    retryDelay: 20,
    maxRetryDelay: 200,
    ...options,
  });
  providers.push(created);
  return created;
}

async function started(options: Partial<KubernetesDiscoveryOptions> = {}): Promise<DiscoveryProvider> {
  const created = provider(options);
  await created.initialize(signal());
  return created;
}

const describePeer = (peer: DiscoveredPeer) => `${peer.nodeName ?? '?'}@${peer.host}:${peer.port}`;
const listed = async (discovery: DiscoveryProvider) =>
  (await discovery.discoverPeers(signal())).map(describePeer);

/** Every list pushed through `watch`, newest last, as `name@host:port` strings. */
function pushes(discovery: DiscoveryProvider): string[][] {
  const seen: string[][] = [];
  discovery.watch!((peers) => seen.push(peers.map(describePeer)));
  return seen;
}
const last = (seen: string[][]) => seen.at(-1);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('kubernetesDiscovery conformance', () => {
  beforeEach(() => {
    api.addPod({ name: 'cache-0', ip: '127.0.0.1', ports: [{ name: 'distcache', containerPort: 4001 }] });
    api.addPod({ name: 'cache-1', ip: '10.0.0.2', ports: [{ name: 'distcache', containerPort: 4002 }] });
    api.addPod({ name: 'cache-2', ip: '10.0.0.3', ready: false });
  });
  for (const check of discoveryConformanceChecks({
    create: () => provider(),
    announces: false,
    expectedPeers: [
      { host: '127.0.0.1', port: 4001 },
      { host: '10.0.0.2', port: 4002 },
    ],
    settleMs: 2_000,
  })) {
    it(check.name, () => check.run());
  }
});

describe('kubernetesDiscovery membership', () => {
  it('lists only Running, Ready pods with an IP, the named port and no deletion under way', async () => {
    const port = (containerPort: number) => [{ name: 'distcache', containerPort }];
    api.addPod({ name: 'ok-1', ip: '10.0.0.1', ports: port(3320) });
    api.addPod({
      name: 'ok-2',
      ip: 'fd00::2',
      ports: [{ name: 'http', containerPort: 8080 }, ...port(3321)],
    });
    api.addPod({ name: 'not-ready', ip: '10.0.0.3', ready: false });
    api.addPod({ name: 'pending', ip: '10.0.0.4', phase: 'Pending' });
    api.addPod({ name: 'no-ip', ip: null });
    api.addPod({ name: 'terminating', ip: '10.0.0.6', terminating: true });
    api.addPod({ name: 'unnamed-port', ip: '10.0.0.7', ports: [{ containerPort: 3320 }] });
    api.addPod({ name: 'other-app', ip: '10.0.0.8', labels: { app: 'other' } });
    api.addPod({ name: 'other-namespace', ip: '10.0.0.9', namespace: 'elsewhere' });
    const discovery = await started();
    expect(await listed(discovery)).toEqual(['ok-1@10.0.0.1:3320', 'ok-2@fd00::2:3321']);
    expect(api.requests[0]).toMatchObject({ kind: 'list', namespace: 'default', labelSelector: SELECTOR });

    const byPortName = await started({ portName: 'http' });
    expect(await listed(byPortName)).toEqual(['ok-2@fd00::2:8080']);
  });

  it('follows readiness, deletion and label changes through the watch, without re-listing', async () => {
    for (const [index, name] of ['a', 'b', 'c'].entries()) api.addPod({ name, ip: `10.0.0.${index + 1}` });
    const discovery = await started();
    const seen = pushes(discovery);
    await waitUntil(() => api.openWatches === 1, 2_000, 'the watch');
    const list = api.requests.find((request) => request.kind === 'list')!;
    const watch = api.requests.find((request) => request.kind === 'watch')!;
    expect(watch).toMatchObject({ namespace: 'default', labelSelector: SELECTOR, status: 200 });
    expect(watch.params).toMatchObject({ watch: 'true', allowWatchBookmarks: 'true' });
    // Asked to end after 5-10 minutes (watchTimeout '5m', randomised as client-go does).
    expect(Number(watch.params.timeoutSeconds)).toBeGreaterThanOrEqual(300);
    expect(Number(watch.params.timeoutSeconds)).toBeLessThanOrEqual(600);
    // The watch starts where the list left off, so nothing between the two is missed.
    expect(watch.resourceVersion).toBe(api.resourceVersion);
    expect(list.resourceVersion).toBeUndefined();

    api.updatePod('b', { ready: false });
    await waitUntil(() => last(seen)?.join() === 'a@10.0.0.1:3320,c@10.0.0.3:3320', 2_000, 'b not ready');
    api.updatePod('b', { ready: true });
    await waitUntil(() => last(seen)?.length === 3, 2_000, 'b ready again');
    api.deletePod('a');
    await waitUntil(() => last(seen)?.join() === 'b@10.0.0.2:3320,c@10.0.0.3:3320', 2_000, 'a deleted');
    api.updatePod('c', { labels: { app: 'retired' } });
    await waitUntil(() => last(seen)?.join() === 'b@10.0.0.2:3320', 2_000, 'c left the selector');
    api.updatePod('b', { terminating: true });
    await waitUntil(() => last(seen)?.length === 0, 2_000, 'b terminating');
    api.addPod({ name: 'd', ip: '10.0.0.4' });
    await waitUntil(() => last(seen)?.join() === 'd@10.0.0.4:3320', 2_000, 'd added');

    expect(seen).toHaveLength(6);
    expect(await listed(discovery)).toEqual(['d@10.0.0.4:3320']);
    expect(api.count('list')).toBe(1);
    expect(api.count('watch')).toBe(1);
  });

  it('pushes only when the candidate list changes, not on every pod update', async () => {
    api.addPod({ name: 'a', ip: '10.0.0.1' });
    const discovery = await started();
    const seen = pushes(discovery);
    await waitUntil(() => api.openWatches === 1, 2_000, 'the watch');
    api.updatePod('a', { labels: { app: 'distcache', revision: '2' } });
    api.addPod({ name: 'b', ip: '10.0.0.2', ready: false });
    api.addPod({ name: 'c', ip: '10.0.0.3' });
    await waitUntil(() => last(seen)?.length === 2, 2_000, 'c added');
    expect(seen).toEqual([['a@10.0.0.1:3320', 'c@10.0.0.3:3320']]);
  });

  it('stops pushing to a listener after unsubscribe, and closes its watch on close()', async () => {
    api.addPod({ name: 'a', ip: '10.0.0.1' });
    const discovery = await started();
    const seen: DiscoveredPeer[][] = [];
    const unsubscribe = discovery.watch!((peers) => seen.push(peers));
    const kept = pushes(discovery);
    await waitUntil(() => api.openWatches === 1, 2_000, 'the watch');
    unsubscribe();
    api.addPod({ name: 'b', ip: '10.0.0.2' });
    await waitUntil(() => kept.length === 1, 2_000, 'the other listener');
    expect(seen).toEqual([]);

    await discovery.close();
    await waitUntil(() => api.openWatches === 0, 2_000, 'the watch to close');
    expect(isDistCacheError(await rejection(discovery.discoverPeers(signal())), 'E_DISCOVERY_FAILED')).toBe(
      true,
    );
    expect(isDistCacheError(await rejection(discovery.initialize(signal())), 'E_DISCOVERY_FAILED')).toBe(
      true,
    );
  });
});

describe('kubernetesDiscovery recovery', () => {
  it('resumes a watch the server ended from the last resource version (bookmarks included), without a list', async () => {
    api.addPod({ name: 'a', ip: '10.0.0.1' });
    const discovery = await started();
    const seen = pushes(discovery);
    await waitUntil(() => api.openWatches === 1, 2_000, 'the watch');
    api.addPod({ name: 'b', ip: '10.0.0.2' });
    await waitUntil(() => last(seen)?.length === 2, 2_000, 'b');
    api.addPod({ name: 'x', ip: '10.9.0.1', namespace: 'elsewhere' }); // moves the version, no event here
    api.bookmark();
    const bookmarked = api.resourceVersion;
    // Written before the end of the stream, so the client reads the bookmark before it sees the end.
    api.endWatches();
    await waitUntil(() => api.count('watch') === 2 && api.openWatches === 1, 2_000, 'the watch to resume');
    expect(api.requests.at(-1)).toMatchObject({ kind: 'watch', resourceVersion: bookmarked, status: 200 });
    api.deletePod('a');
    await waitUntil(() => last(seen)?.join() === 'b@10.0.0.2:3320', 2_000, 'a deleted');
    expect(api.count('list')).toBe(1);
  });

  for (const as of ['event', 'status'] as const) {
    it(`re-lists when the resource version expires (410 as ${as === 'event' ? 'an ERROR event' : 'an HTTP status'}), losing no update`, async () => {
      for (const name of ['a', 'b', 'c']) api.addPod({ name, ip: `10.0.0.${name.charCodeAt(0) - 96}` });
      const discovery = await started();
      const seen = pushes(discovery);
      await waitUntil(() => api.openWatches === 1, 2_000, 'the watch');
      // The connection stalls; meanwhile the cluster changes and the history is compacted, so
      // these events are gone for good: only a fresh list can reveal them.
      api.suspendWatches();
      api.deletePod('a');
      api.updatePod('b', { ready: false });
      api.addPod({ name: 'd', ip: '10.0.0.4' });
      expect(await listed(discovery)).toHaveLength(3);
      api.expireResourceVersions(as);

      await waitUntil(() => last(seen)?.join() === 'c@10.0.0.3:3320,d@10.0.0.4:3320', 3_000, 'the re-list');
      expect(api.count('list')).toBe(2);
      if (as === 'status') expect(api.requests.some((request) => request.status === 410)).toBe(true);
      // And the new watch carries on from the new list.
      api.updatePod('b', { ready: true });
      await waitUntil(() => last(seen)?.length === 3, 2_000, 'b ready after the re-list');
      expect(await listed(discovery)).toEqual(['b@10.0.0.2:3320', 'c@10.0.0.3:3320', 'd@10.0.0.4:3320']);
    });
  }

  it('after a broken watch, backs off and re-lists; discoverPeers rejects while the list may be stale', async () => {
    api.addPod({ name: 'a', ip: '10.0.0.1' });
    api.addPod({ name: 'b', ip: '10.0.0.2' });
    const discovery = await started();
    const seen = pushes(discovery);
    await waitUntil(() => api.openWatches === 1, 2_000, 'the watch');
    api.failWatches(1_000, 500);
    api.failLists(1_000, 503);
    api.dropWatches();
    api.deletePod('a');
    await waitUntil(
      () => api.requests.filter((request) => request.status >= 500).length >= 4,
      3_000,
      'retries',
    );
    const error = await rejection(discovery.discoverPeers(signal()));
    expect(isDistCacheError(error, 'E_DISCOVERY_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/HTTP 50[03]/);
    // Backoff: retryDelay 20 ms doubling to 200 ms, so far fewer attempts than a hot loop would make.
    const failed = api.requests.filter((request) => request.status >= 500).length;
    expect(failed).toBeLessThan(30);

    api.heal();
    await waitUntil(() => last(seen)?.join() === 'b@10.0.0.2:3320', 3_000, 'recovery');
    await waitUntil(() => api.openWatches === 1, 2_000, 'a new watch');
    expect(await listed(discovery)).toEqual(['b@10.0.0.2:3320']);
  });

  it('rejects initialize when the first list fails, says why, and succeeds when called again', async () => {
    api.addPod({ name: 'a', ip: '10.0.0.1' });
    api.failLists(1, 403);
    const discovery = provider();
    const error = await rejection(discovery.initialize(signal()));
    expect(isDistCacheError(error, 'E_DISCOVERY_FAILED')).toBe(true);
    expect((error as Error).message).toContain('HTTP 403');
    expect((error as Error).message).toContain('get, list and watch on pods');
    await discovery.initialize(signal());
    expect(await listed(discovery)).toEqual(['a@10.0.0.1:3320']);
  });
});

describe('kubernetesDiscovery configuration', () => {
  it('loads a kubeconfig file with a context, and takes the namespace from that context', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'distcache-kube-'));
    try {
      const path = join(dir, 'config');
      await writeFile(path, api.kubeconfigYaml('shop'));
      api.addPod({ name: 'shop-0', ip: '10.1.0.1', namespace: 'shop' });
      api.addPod({ name: 'default-0', ip: '10.2.0.1' });
      const fromContext = await started({ kubeconfig: path, context: 'fake' });
      expect(await listed(fromContext)).toEqual(['shop-0@10.1.0.1:3320']);
      const explicit = await started({ kubeconfig: path, context: 'fake', namespace: 'default' });
      expect(await listed(explicit)).toEqual(['default-0@10.2.0.1:3320']);

      const missing = provider({ kubeconfig: path, context: 'nope' });
      const error = await rejection(missing.initialize(signal()));
      expect(isDistCacheError(error, 'E_DISCOVERY_FAILED')).toBe(true);
      expect((error as Error).message).toContain('no context "nope"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uses the in-cluster configuration by default, and says so clearly outside a pod', async () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', undefined);
    try {
      const discovery = kubernetesDiscovery({ labelSelector: SELECTOR });
      providers.push(discovery);
      const error = await rejection(discovery.initialize(signal()));
      expect(isDistCacheError(error, 'E_DISCOVERY_FAILED')).toBe(true);
      expect((error as Error).message).toContain('KUBERNETES_SERVICE_HOST');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('fails with E_MISSING_DEPENDENCY when @kubernetes/client-node is not installed', async () => {
    // A real resolution failure: Node looks for the package from a directory that has none.
    const requireFromNowhere = createRequire(join(tmpdir(), 'distcache-no-such-app', 'index.js'));
    const discovery = createKubernetesDiscovery(
      { labelSelector: SELECTOR, kubeconfig: api.kubeConfig() },
      {
        importClient: () =>
          Promise.resolve().then(() => requireFromNowhere('@kubernetes/client-node') as never),
      },
    );
    const error = await rejection(discovery.initialize(signal()));
    expect(isDistCacheError(error, 'E_MISSING_DEPENDENCY')).toBe(true);
    expect((error as Error).message).toContain('npm install @kubernetes/client-node');
    await discovery.close();

    // Installed but broken (e.g. a missing transitive dependency) is a different failure.
    const broken = createKubernetesDiscovery(
      { labelSelector: SELECTOR, kubeconfig: api.kubeConfig() },
      { importClient: () => Promise.reject(new Error('zstd is not supported')) },
    );
    expect(isDistCacheError(await rejection(broken.initialize(signal())), 'E_DISCOVERY_FAILED')).toBe(true);
  });

  it.each([
    [{}, 'discovery.labelSelector'],
    [{ labelSelector: '  ' }, 'discovery.labelSelector'],
    [{ labelSelector: 'app=(x' }, 'discovery.labelSelector'],
    [{ labelSelector: SELECTOR, namespace: 'Shop' }, 'discovery.namespace'],
    [{ labelSelector: SELECTOR, portName: 'a-very-long-port-name' }, 'discovery.portName'],
    [{ labelSelector: SELECTOR, portName: '3320' }, 'discovery.portName'],
    [{ labelSelector: SELECTOR, kubeconfig: 42 }, 'discovery.kubeconfig'],
    [{ labelSelector: SELECTOR, kubeconfig: {} }, 'discovery.kubeconfig'],
    [{ labelSelector: SELECTOR, context: '' }, 'discovery.context'],
    [{ labelSelector: SELECTOR, retryDelay: '5 minutes' }, 'discovery.retryDelay'],
    [{ labelSelector: SELECTOR, retryDelay: '2s', maxRetryDelay: '1s' }, 'discovery.maxRetryDelay'],
    [{ labelSelector: SELECTOR, requestTimeout: 0 }, 'discovery.requestTimeout'],
    [{ labelSelector: SELECTOR, watchTimeout: '100ms' }, 'discovery.watchTimeout'],
    [{ labelSelector: SELECTOR, portname: 'peer' }, 'discovery.portname'],
  ])('rejects %j at construction with E_INVALID_OPTION naming %s', (options, field) => {
    let error: unknown;
    try {
      kubernetesDiscovery(options as unknown as KubernetesDiscoveryOptions);
    } catch (caught) {
      error = caught;
    }
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain(`"${field}"`);
  });

  it('rejects a context together with a KubeConfig object', () => {
    expect(() =>
      kubernetesDiscovery({ labelSelector: SELECTOR, kubeconfig: api.kubeConfig(), context: 'x' }),
    ).toThrow(/discovery\.context/);
  });
});

describe('three engines discovered through the Kubernetes API', () => {
  interface Node {
    readonly name: string;
    readonly id: string;
    readonly engine: DistCacheEngine;
    readonly source: RecordingSource<string>;
  }
  const catalogue = Array.from({ length: 50 }, (_, index): [string, string] => [
    String(index),
    `item ${index}`,
  ]);

  it('assemble as pods turn Ready, load a cold key once on its owner, and drop a pod that turns unready', async () => {
    const ports = await freePorts(3);
    const nodes: Node[] = ports.map((port, index) => {
      const name = `cache-${'abc'[index]}`;
      api.addPod({
        name,
        ip: '127.0.0.1',
        ready: false,
        ports: [{ name: 'distcache', containerPort: port }],
      });
      const source = new RecordingSource<string>(catalogue);
      const engine = new DistCacheEngine({
        nodeName: name,
        host: '127.0.0.1',
        port,
        discovery: kubernetesDiscovery({ labelSelector: SELECTOR, kubeconfig: api.kubeConfig() }),
        // An hour between polls: every membership change below can only come from the watch.
        clusterOptions: { ...FAST_CLUSTER, discoveryInterval: '1h' },
        keySpaces: [{ name: 'products', dataSource: source }],
      });
      return { name, id: `127.0.0.1:${port}`, engine, source };
    });
    const [a, b, c] = nodes as [Node, Node, Node];
    const events: PeerEvent[] = [];
    a.engine.on('peer', (event) => events.push(event));
    try {
      await Promise.all(nodes.map((node) => node.engine.start()));
      expect(nodes.map((node) => node.engine.stats().members)).toEqual([1, 1, 1]);

      for (const node of nodes) api.updatePod(node.name, { ready: true });
      await waitUntil(() => nodes.every((node) => node.engine.stats().members === 3), 5_000, 'three members');
      expect(api.count('list')).toBe(3); // one initial list per engine; the rest came by watch

      const ownerOf = (key: string) => {
        const owners = new Set(nodes.map((node) => node.engine.ownerOf('products', key)));
        expect(owners.size).toBe(1); // every ring agrees
        return nodes.find((node) => node.id === [...owners][0])!;
      };
      // Picked on A's ring; every ring is checked to agree below, after the gets (as in the DNS test).
      const keys = keysOwnedByEach((key) => a.engine.ownerOf('products', key), 3);
      for (const key of keys) {
        for (const node of nodes) expect(await node.engine.get<string>('products', key)).toBe(`item ${key}`);
        const owner = ownerOf(key);
        expect(nodes.map((node) => node.source.callsFor(key))).toEqual(
          nodes.map((node) => (node === owner ? 1 : 0)),
        );
      }
      expect(new Set(keys.map((key) => ownerOf(key).name)).size).toBe(3);

      // C's readiness probe fails: C still answers pings, so only discovery can remove it.
      api.updatePod(c.name, { ready: false });
      await waitUntil(() => [a, b].every((node) => node.engine.stats().members === 2), 3_000, 'C dropped');
      for (const node of [a, b]) expect(node.engine.peers().map((peer) => peer.id)).not.toContain(c.id);
      expect(events).toContainEqual({
        type: 'left',
        peer: { id: c.id, host: '127.0.0.1', port: Number(c.id.split(':')[1]) },
        reason: 'undiscovered',
      });
      for (const key of ['20', '21', '22', '23']) {
        for (const node of [a, b]) expect(await node.engine.get<string>('products', key)).toBe(`item ${key}`);
        const owner = a.engine.ownerOf('products', key);
        expect(b.engine.ownerOf('products', key)).toBe(owner);
        expect([a.id, b.id]).toContain(owner);
        expect(nodes.map((node) => node.source.callsFor(key))).toEqual(
          nodes.map((node) => (node.id === owner ? 1 : 0)),
        );
      }
    } finally {
      await Promise.all(nodes.map((node) => node.engine.stop()));
    }
  });
});
