// natsDiscovery against a real nats-server: the conformance checks every provider passes, option
// validation at construction, and the errors users see when the client or the server is missing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistCacheEngine, isDistCacheError } from '../../src';
import {
  DEFAULT_NATS_CLUSTER,
  DEFAULT_NATS_HEARTBEAT_INTERVAL,
  DEFAULT_NATS_HEARTBEAT_TIMEOUT,
  DEFAULT_NATS_SUBJECT_PREFIX,
  type NatsDiscoveryOptions,
  natsDiscovery,
  resolveNatsDiscoveryOptions,
} from '../../src/discovery/nats';
import { discoveryConformanceChecks } from '../../src/testing';
import { freePorts } from '../support/cluster';
import { type NatsServer, startNatsServer } from '../support/nats-server';

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server.stop('SIGTERM');
});

const signal = () => new AbortController().signal;
const FAST = { heartbeatInterval: 100, heartbeatTimeout: 600, discoverWindow: 50, reconnectTimeWait: 100 };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('natsDiscovery conformance', () => {
  for (const check of discoveryConformanceChecks({
    create: () => natsDiscovery({ servers: server.url, cluster: 'conformance', ...FAST }),
    announces: true,
    settleMs: 2_000,
  })) {
    it(check.name, () => check.run());
  }

  it('rejects discoverPeers with E_DISCOVERY_FAILED before initialize and after close', async () => {
    const provider = natsDiscovery({ servers: server.url, ...FAST });
    expect(isDistCacheError(await rejection(provider.discoverPeers(signal())), 'E_DISCOVERY_FAILED')).toBe(
      true,
    );
    await provider.initialize(signal());
    expect(await provider.discoverPeers(signal())).toEqual([]);
    await provider.close();
    const error = await rejection(provider.discoverPeers(signal()));
    expect(isDistCacheError(error, 'E_DISCOVERY_FAILED')).toBe(true);
    expect(isDistCacheError(await rejection(provider.initialize(signal())), 'E_DISCOVERY_FAILED')).toBe(true);
  });
});

describe('natsDiscovery without its client or its server', () => {
  const notInstalled = () =>
    Promise.reject(
      Object.assign(new Error("Cannot find package '@nats-io/transport-node'"), {
        code: 'ERR_MODULE_NOT_FOUND',
      }),
    );

  it('rejects initialize with E_MISSING_DEPENDENCY naming the package when the client is not installed', async () => {
    const provider = natsDiscovery({ servers: server.url, importClient: notInstalled });
    const error = await rejection(provider.initialize(signal()));
    expect(isDistCacheError(error, 'E_MISSING_DEPENDENCY')).toBe(true);
    expect((error as Error).message).toContain('@nats-io/transport-node');
    expect((error as Error).message).toContain('npm install @nats-io/transport-node');
    await provider.close();
  });

  it('makes engine.start() fail with E_START_FAILED caused by the missing dependency', async () => {
    const [port] = (await freePorts(1)) as [number];
    const engine = new DistCacheEngine({
      port,
      discovery: natsDiscovery({ servers: server.url, importClient: notInstalled }),
      clusterOptions: { joinRetries: 0 },
      keySpaces: [{ name: 'products' }],
    });
    const error = await rejection(engine.start());
    expect(isDistCacheError(error, 'E_START_FAILED')).toBe(true);
    expect(isDistCacheError((error as Error).cause, 'E_MISSING_DEPENDENCY')).toBe(true);
    expect((error as Error).message).toContain('@nats-io/transport-node');
    await engine.stop();
  });

  it('reports a broken client module as E_DISCOVERY_FAILED, not as a missing one', async () => {
    const provider = natsDiscovery({
      servers: server.url,
      importClient: () => Promise.resolve({} as never),
    });
    expect(isDistCacheError(await rejection(provider.initialize(signal())), 'E_DISCOVERY_FAILED')).toBe(true);
  });

  it('rejects initialize with E_DISCOVERY_FAILED naming the server when none listens, and can retry', async () => {
    const [port] = (await freePorts(1)) as [number];
    const provider = natsDiscovery({ servers: `nats://127.0.0.1:${port}`, connectTimeout: 1_000 });
    const error = await rejection(provider.initialize(signal()));
    expect(isDistCacheError(error, 'E_DISCOVERY_FAILED')).toBe(true);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    // A failed attempt leaves the provider ready for another one (the engine retries joins).
    expect(isDistCacheError(await rejection(provider.initialize(signal())), 'E_DISCOVERY_FAILED')).toBe(true);
    await provider.close();
  });

  it('keeps credentials in server URLs out of error messages', async () => {
    const [port] = (await freePorts(1)) as [number];
    const provider = natsDiscovery({ servers: `nats://bob:s3cret@127.0.0.1:${port}` });
    const error = await rejection(provider.initialize(signal()));
    expect((error as Error).message).not.toContain('s3cret');
    await provider.close();
  });

  it('rejects register with E_ABORTED when its signal fires during the discovery window', async () => {
    const provider = natsDiscovery({ servers: server.url, discoverWindow: '10s' });
    await provider.initialize(signal());
    const controller = new AbortController();
    const registering = provider.register({ host: '127.0.0.1', port: 41_100 }, controller.signal);
    controller.abort(new Error('start timed out'));
    expect(isDistCacheError(await rejection(registering), 'E_ABORTED')).toBe(true);
    await provider.close();
  });

  it('rejects initialize with E_ABORTED when the signal has fired', async () => {
    const provider = natsDiscovery({ servers: server.url });
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    expect(isDistCacheError(await rejection(provider.initialize(controller.signal)), 'E_ABORTED')).toBe(true);
    await provider.close();
  });
});

describe('natsDiscovery options', () => {
  it('fills defaults and builds the subjects', () => {
    const resolved = resolveNatsDiscoveryOptions({ servers: 'nats://nats:4222' });
    expect(DEFAULT_NATS_HEARTBEAT_INTERVAL).toBe('1s');
    expect(DEFAULT_NATS_HEARTBEAT_TIMEOUT).toBe('5s');
    expect(resolved).toMatchObject({
      servers: ['nats://nats:4222'],
      cluster: DEFAULT_NATS_CLUSTER,
      subjectPrefix: DEFAULT_NATS_SUBJECT_PREFIX,
      heartbeatIntervalMs: 1_000,
      heartbeatTimeoutMs: 5_000,
      discoverWindowMs: 250,
      subjects: { announce: 'distcache.distcache.announce', discover: 'distcache.distcache.discover' },
    });
    expect(
      resolveNatsDiscoveryOptions({
        servers: ['n1:4222', 'tls://n2'],
        subjectPrefix: 'acme.cache',
        cluster: 'shop',
      }).subjects,
    ).toEqual({ announce: 'acme.cache.shop.announce', discover: 'acme.cache.shop.discover' });
    expect(natsDiscovery({ servers: 'nats://nats:4222' }).name).toBe('nats');
  });

  it.each<[string, unknown, string]>([
    ['no options', undefined, 'discovery'],
    ['no servers', {}, 'discovery.servers'],
    ['an empty server list', { servers: [] }, 'discovery.servers'],
    ['a blank server', { servers: ['nats://a:4222', ' '] }, 'discovery.servers[1]'],
    ['an http server URL', { servers: 'http://nats:4222' }, 'discovery.servers'],
    ['a wildcard prefix', { servers: 'n:4222', subjectPrefix: 'a.*' }, 'discovery.subjectPrefix'],
    ['an empty prefix token', { servers: 'n:4222', subjectPrefix: 'a..b' }, 'discovery.subjectPrefix'],
    ['a prefix with a space', { servers: 'n:4222', subjectPrefix: 'a b' }, 'discovery.subjectPrefix'],
    ['a wildcard cluster', { servers: 'n:4222', cluster: '>' }, 'discovery.cluster'],
    ['a negative interval', { servers: 'n:4222', heartbeatInterval: -1 }, 'discovery.heartbeatInterval'],
    ['a zero timeout', { servers: 'n:4222', heartbeatTimeout: 0 }, 'discovery.heartbeatTimeout'],
    [
      'a timeout under twice the interval',
      { servers: 'n:4222', heartbeatInterval: '1s', heartbeatTimeout: '1500ms' },
      'discovery.heartbeatTimeout',
    ],
    ['a malformed window', { servers: 'n:4222', discoverWindow: 'soon' }, 'discovery.discoverWindow'],
    ['user without pass', { servers: 'n:4222', user: 'u' }, 'discovery.pass'],
    ['token with user/pass', { servers: 'n:4222', user: 'u', pass: 'p', token: 't' }, 'discovery.token'],
    ['tls as a string', { servers: 'n:4222', tls: 'yes' }, 'discovery.tls'],
    ['a misspelt option', { servers: 'n:4222', heartbeatIntervall: '1s' }, 'discovery.heartbeatIntervall'],
  ])('rejects %s with E_INVALID_OPTION naming the field', (_what, options, path) => {
    const error = thrown(() => natsDiscovery(options as NatsDiscoveryOptions));
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as { details: { path: string } }).details.path).toBe(path);
    expect((error as Error).message).toContain(`"${path}"`);
  });

  it('keeps passwords and tokens out of the message', () => {
    const error = thrown(() =>
      natsDiscovery({ servers: 'n:4222', user: 'u', pass: 42 as unknown as string }),
    );
    expect((error as Error).message).not.toContain('42');
  });
});
