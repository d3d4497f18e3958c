import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import type { DiscoveredPeer, DiscoveryProvider } from '../discovery/discovery';
import { isDistCacheError } from '../errors/distcache-error';

/** How the conformance checks make providers and what they may expect of them. */
export interface DiscoveryConformanceSubject {
  /** Creates a provider for the node at `self` (a fresh one per call). */
  create(self: DiscoveredPeer): DiscoveryProvider | Promise<DiscoveryProvider>;
  /**
   * True when `register` makes a node visible to other instances (NATS, DNS with dynamic records):
   * the checks then expect two registered nodes to see each other and a deregistered node to
   * disappear. False for providers whose list comes from configuration or infrastructure (static,
   * Kubernetes).
   */
  announces: boolean;
  /** Peers every instance lists regardless of registration (static lists, a test's DNS records). */
  expectedPeers?: DiscoveredPeer[];
  /** Longest a change may take to show (polling intervals, heartbeats). @default 5000 */
  settleMs?: number;
}

/** One named check; `run` throws (an AssertionError) when the provider breaks the contract. */
export interface ConformanceCheck {
  readonly name: string;
  run(): Promise<void>;
}

const signal = (): AbortSignal => new AbortController().signal;
const key = (peer: DiscoveredPeer): string => `${peer.host}:${peer.port}`;

async function eventually(condition: () => Promise<boolean>, settleMs: number, what: string): Promise<void> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`not within ${settleMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The checks every {@link DiscoveryProvider} must pass, usable from any test framework.
 *
 * @example
 * for (const check of discoveryConformanceChecks({ create: () => staticDiscovery({ peers }), announces: false }))
 *   it(check.name, () => check.run());
 */
export function discoveryConformanceChecks(subject: DiscoveryConformanceSubject): ConformanceCheck[] {
  const settleMs = subject.settleMs ?? 5_000;
  const self = (port: number): DiscoveredPeer => ({
    host: '127.0.0.1',
    port,
    nodeName: `conformance-${port}`,
  });
  const started = async (port: number): Promise<DiscoveryProvider> => {
    const provider = await subject.create(self(port));
    await provider.initialize(signal());
    await provider.register(self(port), signal());
    return provider;
  };
  const listed = async (provider: DiscoveryProvider): Promise<Set<string>> =>
    new Set((await provider.discoverPeers(signal())).map(key));

  const checks: ConformanceCheck[] = [
    {
      name: 'has a non-empty name',
      run: async () => {
        const provider = await subject.create(self(41_001));
        ok(typeof provider.name === 'string' && provider.name.length > 0);
        await provider.close();
      },
    },
    {
      name: 'runs its lifecycle in order and lists well-formed peers',
      run: async () => {
        const provider = await started(41_002);
        try {
          const peers = await provider.discoverPeers(signal());
          ok(Array.isArray(peers), 'discoverPeers returns an array');
          for (const peer of peers) {
            ok(typeof peer.host === 'string' && peer.host.length > 0, `host of ${JSON.stringify(peer)}`);
            ok(
              Number.isInteger(peer.port) && peer.port >= 1 && peer.port <= 65_535,
              `port of ${JSON.stringify(peer)}`,
            );
          }
          for (const expected of subject.expectedPeers ?? []) {
            await eventually(
              async () => (await listed(provider)).has(key(expected)),
              settleMs,
              `${key(expected)} listed`,
            );
          }
        } finally {
          await provider.deregister();
          await provider.close();
        }
      },
    },
    {
      name: 'allows deregister without register, and close twice',
      run: async () => {
        const provider = await subject.create(self(41_003));
        await provider.initialize(signal());
        await provider.deregister();
        await provider.close();
        await provider.close();
      },
    },
    {
      name: 'rejects discoverPeers after close with a DistCacheError',
      run: async () => {
        const provider = await started(41_004);
        await provider.deregister();
        await provider.close();
        let error: unknown;
        try {
          await provider.discoverPeers(signal());
        } catch (caught) {
          error = caught;
        }
        ok(isDistCacheError(error), `expected a DistCacheError, got ${String(error)}`);
      },
    },
    {
      name: 'stops calling watch listeners after unsubscribe',
      run: async () => {
        const provider = await started(41_005);
        try {
          if (provider.watch === undefined) return;
          const unsubscribe = provider.watch(() => undefined);
          strictEqual(typeof unsubscribe, 'function');
          unsubscribe();
          unsubscribe();
        } finally {
          await provider.deregister();
          await provider.close();
        }
      },
    },
  ];

  if (subject.announces) {
    checks.push({
      name: 'two registered nodes see each other, and a deregistered node disappears',
      run: async () => {
        const first = await started(41_011);
        const second = await started(41_012);
        try {
          for (const provider of [first, second]) {
            await eventually(
              async () => {
                const peers = await listed(provider);
                return peers.has('127.0.0.1:41011') && peers.has('127.0.0.1:41012');
              },
              settleMs,
              'both nodes listed',
            );
          }
          await second.deregister();
          await eventually(
            async () => !(await listed(first)).has('127.0.0.1:41012'),
            settleMs,
            'deregistered node gone',
          );
          deepStrictEqual((await listed(first)).has('127.0.0.1:41011'), true);
        } finally {
          await Promise.all(
            [first, second].map(async (provider) => {
              await provider.deregister();
              await provider.close();
            }),
          );
        }
      },
    });
  }
  return checks;
}
