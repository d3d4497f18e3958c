// dnsDiscovery against a real DNS server on a loopback port: what it lists for A, AAAA and SRV
// records, how it follows record changes, and how it fails.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DistCacheError, isDistCacheError } from '../../src';
import {
  DEFAULT_DNS_FAMILY,
  DEFAULT_DNS_RESOLVE_TARGETS,
  DEFAULT_DNS_TIMEOUT,
  DEFAULT_DNS_TRIES,
  type DnsDiscovery,
  dnsDiscovery,
  type DnsDiscoveryOptions,
  resolveDnsDiscoveryOptions,
} from '../../src/discovery/dns';
import { TestDnsServer } from '../support/dns-server';

const NAME = 'cache.svc.test';
const SRV = '_distcache._tcp.svc.test';
const signal = (): AbortSignal => new AbortController().signal;

let dns: TestDnsServer;
let providers: DnsDiscovery[] = [];
beforeEach(async () => {
  dns = await TestDnsServer.start();
});
afterEach(async () => {
  await Promise.all(providers.map((provider) => provider.close()));
  providers = [];
  await dns.stop();
});

/** A started provider that asks the test server, with short timeouts. */
async function provider(options: DnsDiscoveryOptions): Promise<DnsDiscovery> {
  const created = dnsDiscovery({ servers: [dns.address], timeout: 100, tries: 1, ...options });
  providers.push(created);
  await created.initialize();
  return created;
}

const ids = async (discovery: DnsDiscovery): Promise<string[]> =>
  (await discovery.discoverPeers(signal())).map((peer) => `${peer.host}:${peer.port}`);

async function failure(work: Promise<unknown>): Promise<DistCacheError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDistCacheError(error)) throw new Error(`expected a DistCacheError, got ${String(error)}`);
  return error;
}

describe('dnsDiscovery with A/AAAA records', () => {
  it('lists every address at the configured port, and follows record changes', async () => {
    dns.setA(NAME, ['10.0.0.2', '10.0.0.1']);
    const discovery = await provider({ name: NAME, port: 3320 });
    expect(discovery.name).toBe('dns');
    expect(await ids(discovery)).toEqual(['10.0.0.1:3320', '10.0.0.2:3320']);

    dns.setA(NAME, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(await ids(discovery)).toEqual(['10.0.0.1:3320', '10.0.0.2:3320', '10.0.0.3:3320']);

    dns.setA(NAME, ['10.0.0.3']);
    expect(await ids(discovery)).toEqual(['10.0.0.3:3320']);
  });

  it('picks A, AAAA or both records by family', async () => {
    dns.setA(NAME, ['10.0.0.1']).setAAAA(NAME, ['fd00::1']);
    expect(await ids(await provider({ name: NAME, port: 3320 }))).toEqual(['10.0.0.1:3320']);
    expect(await ids(await provider({ name: NAME, port: 3320, family: 6 }))).toEqual(['fd00::1:3320']);
    expect(await ids(await provider({ name: NAME, port: 3320, family: 'any' }))).toEqual([
      '10.0.0.1:3320',
      'fd00::1:3320',
    ]);
    expect(dns.queries.filter((query) => query.endsWith(NAME))).toEqual([
      `A ${NAME}`,
      `AAAA ${NAME}`,
      `A ${NAME}`,
      `AAAA ${NAME}`,
    ]);
  });

  it('lists nobody, without failing, for a name with no records (scaled to zero) or no such name', async () => {
    dns.setAAAA(NAME, ['fd00::1']); // the name exists, with no A record: NODATA
    expect(await ids(await provider({ name: NAME, port: 3320 }))).toEqual([]);
    expect(await ids(await provider({ name: 'unknown.svc.test', port: 3320 }))).toEqual([]); // NXDOMAIN
  });
});

describe('dnsDiscovery with SRV records', () => {
  it('takes the port from each record and resolves its target', async () => {
    dns.setSrv(SRV, [
      { target: 'node-a.svc.test', port: 4001 },
      { target: 'node-b.svc.test', port: 4002, priority: 10, weight: 5 },
      { target: 'node-a.svc.test', port: 4003 }, // two nodes on one host
    ]);
    dns.setA('node-a.svc.test', ['10.0.0.1']).setA('node-b.svc.test', ['10.0.0.2']);
    const discovery = await provider({ srv: SRV });
    expect(await ids(discovery)).toEqual(['10.0.0.1:4001', '10.0.0.1:4003', '10.0.0.2:4002']);
    // Each target is resolved once per lookup, however many records point at it.
    expect(dns.queries).toEqual([`SRV ${SRV}`, 'A node-a.svc.test', 'A node-b.svc.test']);

    dns.setSrv(SRV, [{ target: 'node-b.svc.test', port: 4100 }]);
    expect(await ids(discovery)).toEqual(['10.0.0.2:4100']);
  });

  it('uses an IP target as the host, skips targets that no longer resolve, and lists an empty SRV set as nobody', async () => {
    dns.setSrv(SRV, [
      { target: '10.0.0.9', port: 4001 },
      { target: 'gone.svc.test', port: 4002 },
    ]);
    const discovery = await provider({ srv: SRV });
    expect(await ids(discovery)).toEqual(['10.0.0.9:4001']);
    dns.remove(SRV);
    expect(await ids(discovery)).toEqual([]);
  });

  it('resolves targets by family, or keeps target names with resolveTargets: false', async () => {
    dns.setSrv(SRV, [{ target: 'node-a.svc.test', port: 4001 }]);
    dns.setA('node-a.svc.test', ['10.0.0.1']).setAAAA('node-a.svc.test', ['fd00::1']);
    expect(await ids(await provider({ srv: SRV, family: 6 }))).toEqual(['fd00::1:4001']);
    expect(await ids(await provider({ srv: SRV, resolveTargets: false }))).toEqual(['node-a.svc.test:4001']);
  });
});

describe('dnsDiscovery failures', () => {
  it('rejects with E_DISCOVERY_FAILED, with the resolver error as cause, when the server does not answer', async () => {
    dns.setA(NAME, ['10.0.0.1']);
    dns.mode = 'silent';
    const error = await failure((await provider({ name: NAME, port: 3320 })).discoverPeers(signal()));
    expect(error.code).toBe('E_DISCOVERY_FAILED');
    expect(error.message).toContain(`A lookup of "${NAME}" via ${dns.address} failed with ETIMEOUT`);
    expect((error.cause as { code?: string }).code).toBe('ETIMEOUT');
  });

  it('rejects with E_DISCOVERY_FAILED when the server fails (SERVFAIL, REFUSED) or is down', async () => {
    dns.setSrv(SRV, [{ target: '10.0.0.1', port: 4001 }]);
    const discovery = await provider({ srv: SRV });
    for (const [mode, code] of [
      ['servfail', 'ESERVFAIL'],
      ['refused', 'EREFUSED'],
    ] as const) {
      dns.mode = mode;
      const error = await failure(discovery.discoverPeers(signal()));
      expect([error.code, (error.cause as { code?: string }).code]).toEqual(['E_DISCOVERY_FAILED', code]);
    }
    await dns.stop();
    const error = await failure(discovery.discoverPeers(signal()));
    expect(error.code).toBe('E_DISCOVERY_FAILED');
    expect(error.details).toEqual({ provider: 'dns' });
  });

  it('fails the whole lookup when resolving one SRV target fails, rather than list part of the cluster', async () => {
    dns.setSrv(SRV, [
      { target: '10.0.0.1', port: 4001 },
      { target: 'node-b.svc.test', port: 4002 },
    ]);
    dns.setA('node-b.svc.test', ['10.0.0.2']);
    dns.silentFor.add('A'); // SRV answered, the target's address query times out
    const error = await failure((await provider({ srv: SRV })).discoverPeers(signal()));
    expect(error.message).toContain('A lookup of "node-b.svc.test"');
    expect((error.cause as { code?: string }).code).toBe('ETIMEOUT');
  });

  it('cancels the queries in flight when the signal aborts, with E_ABORTED', async () => {
    dns.mode = 'silent';
    // Retries would go out after about 250 ms and 750 ms if the query were not cancelled.
    const discovery = await provider({ name: NAME, port: 3320, timeout: 250, tries: 3 });
    const controller = new AbortController();
    const pending = failure(discovery.discoverPeers(controller.signal));
    await waitFor(() => dns.queries.length === 1);
    controller.abort(new Error('stopping'));
    const error = await pending;
    expect(error.code).toBe('E_ABORTED');
    expect(error.cause).toEqual(new Error('stopping'));
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(dns.queries).toEqual([`A ${NAME}`]);
    expect((await failure(discovery.discoverPeers(controller.signal))).code).toBe('E_ABORTED');
  });

  it('rejects lookups in flight and later ones with E_DISCOVERY_FAILED after close()', async () => {
    dns.mode = 'silent';
    const discovery = await provider({ name: NAME, port: 3320, timeout: '10s' });
    const pending = failure(discovery.discoverPeers(signal()));
    await waitFor(() => dns.queries.length === 1);
    await discovery.close();
    expect((await pending).code).toBe('E_DISCOVERY_FAILED');
    expect((await failure(discovery.discoverPeers(signal()))).message).toContain('closed');
    expect((await failure(discovery.initialize())).code).toBe('E_DISCOVERY_FAILED');
    await discovery.close();
  });

  it('treats register and deregister as no-ops', async () => {
    dns.setA(NAME, ['10.0.0.1']);
    const discovery = await provider({ name: NAME, port: 3320 });
    await discovery.register();
    await discovery.deregister();
    expect(await ids(discovery)).toEqual(['10.0.0.1:3320']);
    expect(dns.queries).toEqual([`A ${NAME}`]);
  });
});

describe('dnsDiscovery options', () => {
  it('fills defaults in one pure step', () => {
    expect(DEFAULT_DNS_TIMEOUT).toBe('1s');
    expect(resolveDnsDiscoveryOptions({ name: 'cache.svc.local.', port: 3320 })).toEqual({
      mode: 'name',
      name: 'cache.svc.local',
      port: 3320,
      servers: undefined,
      timeoutMs: 1_000,
      tries: DEFAULT_DNS_TRIES,
      family: DEFAULT_DNS_FAMILY,
    });
    expect(
      resolveDnsDiscoveryOptions({
        srv: '_distcache._tcp.svc.local',
        servers: ['127.0.0.1:5353', '::1', '[fd00::53]:53', '10.0.0.53'],
        timeout: '250ms',
        tries: 3,
        family: 'any',
      }),
    ).toEqual({
      mode: 'srv',
      srv: '_distcache._tcp.svc.local',
      resolveTargets: DEFAULT_DNS_RESOLVE_TARGETS,
      servers: ['127.0.0.1:5353', '::1', '[fd00::53]:53', '10.0.0.53'],
      timeoutMs: 250,
      tries: 3,
      family: 'any',
    });
  });

  it.each([
    [undefined, 'discovery'],
    [{ port: 3320 }, 'discovery.name'],
    [{ name: '', port: 3320 }, 'discovery.name'],
    [{ name: 'bad name.local', port: 3320 }, 'discovery.name'],
    [{ name: 'a..b', port: 3320 }, 'discovery.name'],
    [{ name: 42, port: 3320 }, 'discovery.name'],
    [{ name: '10.0.0.1', port: 3320 }, 'discovery.name'],
    [{ name: 'cache.local' }, 'discovery.port'],
    [{ name: 'cache.local', port: 0 }, 'discovery.port'],
    [{ name: 'cache.local', port: 70_000 }, 'discovery.port'],
    [{ name: 'cache.local', port: '3320' }, 'discovery.port'],
    [{ name: 'cache.local', port: 3320, srv: '_x._tcp.local' }, 'discovery.srv'],
    [{ srv: '_x._tcp.local', port: 3320 }, 'discovery.port'],
    [{ srv: '' }, 'discovery.srv'],
    [{ srv: '_x._tcp.local', resolveTargets: 'yes' }, 'discovery.resolveTargets'],
    [{ name: 'cache.local', port: 3320, resolveTargets: false }, 'discovery.resolveTargets'],
    [{ name: 'cache.local', port: 3320, servers: [] }, 'discovery.servers'],
    [{ name: 'cache.local', port: 3320, servers: '127.0.0.1' }, 'discovery.servers'],
    [{ name: 'cache.local', port: 3320, servers: ['127.0.0.1', 'dns.local'] }, 'discovery.servers[1]'],
    [{ name: 'cache.local', port: 3320, servers: ['127.0.0.1:0'] }, 'discovery.servers[0]'],
    [{ name: 'cache.local', port: 3320, servers: ['[127.0.0.1]:53'] }, 'discovery.servers[0]'],
    [{ name: 'cache.local', port: 3320, timeout: 0 }, 'discovery.timeout'],
    [{ name: 'cache.local', port: 3320, timeout: 'soon' }, 'discovery.timeout'],
    [{ name: 'cache.local', port: 3320, timeout: '2m' }, 'discovery.timeout'],
    [{ name: 'cache.local', port: 3320, tries: 0 }, 'discovery.tries'],
    [{ name: 'cache.local', port: 3320, tries: 1.5 }, 'discovery.tries'],
    [{ name: 'cache.local', port: 3320, family: 5 }, 'discovery.family'],
    [{ name: 'cache.local', port: 3320, familly: 4 }, 'discovery.familly'],
  ])('rejects %j at construction with E_INVALID_OPTION naming %s', (options, path) => {
    let error: unknown;
    try {
      dnsDiscovery(options as unknown as DnsDiscoveryOptions);
    } catch (caught) {
      error = caught;
    }
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as DistCacheError).details).toEqual({ path });
    expect((error as DistCacheError).message).toContain(`"${path}"`);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
