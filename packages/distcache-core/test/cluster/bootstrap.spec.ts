// Start-up in a cluster: minimum quorum, bootstrap timeout, and join retries.
import { describe, expect, it } from 'vitest';
import { DistCacheEngine, type DiscoveryProvider, isDistCacheError, staticDiscovery } from '../../src';
import { FAST_CLUSTER, freePorts } from '../support/cluster';

function node(port: number, peers: string[], clusterOptions = {}, discovery?: DiscoveryProvider) {
  return new DistCacheEngine({
    nodeName: `n${port}`,
    port,
    discovery: discovery ?? staticDiscovery({ peers }),
    clusterOptions: { ...FAST_CLUSTER, ...clusterOptions },
    keySpaces: [{ name: 'products' }],
  });
}

describe('cluster bootstrap', () => {
  it('fails start with E_CLUSTER_QUORUM when too few members answer, and releases the port', async () => {
    const [port, absent] = (await freePorts(2)) as [number, number];
    const peers = [`127.0.0.1:${port}`, `127.0.0.1:${absent}`];
    const lonely = node(port, peers, { minMembers: 2, bootstrapTimeout: 400 });
    const error = await lonely.start().catch((e: unknown) => e);
    expect(isDistCacheError(error, 'E_START_FAILED')).toBe(true);
    const cause = (error as Error).cause;
    expect(isDistCacheError(cause, 'E_CLUSTER_QUORUM')).toBe(true);
    expect((cause as Error).message).toMatch(/Only 1 of the required 2/);
    expect(lonely.state).toBe('idle');
    // The listener was closed: the same port can be bound again.
    const again = node(port, [`127.0.0.1:${port}`]);
    await again.start();
    await again.stop();
  });

  it('waits for the quorum when the other members start later within the bootstrap timeout', async () => {
    const ports = await freePorts(2);
    const peers = ports.map((port) => `127.0.0.1:${port}`);
    const first = node(ports[0]!, peers, { minMembers: 2, bootstrapTimeout: '5s' });
    const second = node(ports[1]!, peers, { minMembers: 2, bootstrapTimeout: '5s' });
    try {
      const starting = first.start();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(first.state).toBe('starting');
      await Promise.all([starting, second.start()]);
      expect(first.stats().members).toBe(2);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('logs a listed peer that is not up yet at debug level, not as a warning, while the cluster starts', async () => {
    const [port, absent] = (await freePorts(2)) as [number, number];
    const lines: Array<{ level: string; message: string }> = [];
    const record =
      (level: string) =>
      (message: string): void => {
        lines.push({ level, message });
      };
    const engine = new DistCacheEngine({
      nodeName: 'first',
      port,
      discovery: staticDiscovery({ peers: [`127.0.0.1:${port}`, `127.0.0.1:${absent}`] }),
      clusterOptions: { ...FAST_CLUSTER, convergeTimeout: 100 },
      keySpaces: [{ name: 'products' }],
      logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    });
    try {
      await engine.start();
      // Many ping rounds (every 50 ms) against the absent peer.
      await new Promise((resolve) => setTimeout(resolve, 600));
      const aboutAbsent = lines.filter((line) => line.message.includes(`127.0.0.1:${absent}`));
      expect(aboutAbsent.filter((line) => line.level === 'warn')).toEqual([]);
      expect(
        aboutAbsent.some((line) => line.level === 'debug' && /does not answer yet/.test(line.message)),
      ).toBe(true);
      // The problem is still reported where operators look.
      expect(engine.peers().find((peer) => peer.id === `127.0.0.1:${absent}`)?.problem).toMatch(
        /E_PEER_UNAVAILABLE/,
      );
    } finally {
      await engine.stop();
    }
  });

  it('retries a failing discovery registration with backoff before giving up', async () => {
    const [port] = (await freePorts(1)) as [number];
    let attempts = 0;
    const flaky: DiscoveryProvider = {
      ...staticDiscovery({ peers: [`127.0.0.1:${port}`] }),
      name: 'flaky',
      register: () => {
        attempts += 1;
        return attempts < 3 ? Promise.reject(new Error('registry busy')) : Promise.resolve();
      },
    };
    const engine = node(port, [], { joinRetries: 2, joinRetryDelay: 20 }, flaky);
    await engine.start();
    expect(attempts).toBe(3);
    await engine.stop();
    attempts = -10;
    const hopeless = node(port, [], { joinRetries: 2, joinRetryDelay: 20 }, flaky);
    const error = await hopeless.start().catch((e: unknown) => e);
    expect(isDistCacheError(error, 'E_START_FAILED')).toBe(true);
    expect(attempts).toBe(-7);
  });
});
