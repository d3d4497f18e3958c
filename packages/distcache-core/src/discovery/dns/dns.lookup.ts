import type { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { discoveryFailed } from '../../errors/messages';
import type { DiscoveredPeer } from '../discovery';
import type { DnsFamily, ResolvedDnsDiscoveryOptions } from './dns.options';

// NXDOMAIN and "name exists, no records of that type": nothing is listed, which is a valid answer
// (a service scaled to zero, a pod gone between the SRV and the address query).
const NO_RECORDS: ReadonlySet<string> = new Set(['ENOTFOUND', 'ENODATA']);
// The resolver was cancelled (caller abort or close); the provider turns it into its own error.
const CANCELLED = 'ECANCELLED';

/**
 * Asks DNS for the candidate peers described by `options`, deduplicated and sorted by
 * `host:port`. Every query runs on `resolver`, so `resolver.cancel()` stops them all.
 * @throws DistCacheError `E_DISCOVERY_FAILED` naming the query that failed
 */
export async function lookupPeers(
  resolver: Resolver,
  options: ResolvedDnsDiscoveryOptions,
  signal: AbortSignal,
): Promise<DiscoveredPeer[]> {
  const servers = options.servers;
  switch (options.mode) {
    case 'name': {
      const addresses = await resolveAddresses(resolver, options.name, options.family, servers);
      return unique(addresses.map((host) => ({ host, port: options.port })));
    }
    case 'srv': {
      const records = (await query(resolver, 'SRV', options.srv, servers)).filter(
        // RFC 2782: a target of "." means "no service here"; port 0 cannot be dialled.
        (record) => record.name.length > 0 && record.name !== '.' && record.port > 0,
      );
      if (!options.resolveTargets) {
        return unique(records.map((record) => ({ host: record.name, port: record.port })));
      }
      signal.throwIfAborted();
      const names = [...new Set(records.map((record) => record.name).filter((name) => isIP(name) === 0))];
      const resolved = new Map(
        await Promise.all(
          names.map(
            async (name) => [name, await resolveAddresses(resolver, name, options.family, servers)] as const,
          ),
        ),
      );
      return unique(
        records.flatMap((record) =>
          (resolved.get(record.name) ?? [record.name]).map((host) => ({ host, port: record.port })),
        ),
      );
    }
  }
}

async function resolveAddresses(
  resolver: Resolver,
  name: string,
  family: DnsFamily,
  servers: readonly string[] | undefined,
): Promise<string[]> {
  switch (family) {
    case 4:
      return query(resolver, 'A', name, servers);
    case 6:
      return query(resolver, 'AAAA', name, servers);
    case 'any': {
      const [v4, v6] = await Promise.all([
        query(resolver, 'A', name, servers),
        query(resolver, 'AAAA', name, servers),
      ]);
      return [...v4, ...v6];
    }
  }
}

function query(
  resolver: Resolver,
  type: 'A' | 'AAAA',
  name: string,
  servers: readonly string[] | undefined,
): Promise<string[]>;
function query(
  resolver: Resolver,
  type: 'SRV',
  name: string,
  servers: readonly string[] | undefined,
): Promise<Array<{ name: string; port: number }>>;
async function query(
  resolver: Resolver,
  type: 'A' | 'AAAA' | 'SRV',
  name: string,
  servers: readonly string[] | undefined,
): Promise<Array<string | { name: string; port: number }>> {
  try {
    switch (type) {
      case 'A':
        return await resolver.resolve4(name);
      case 'AAAA':
        return await resolver.resolve6(name);
      case 'SRV':
        return await resolver.resolveSrv(name);
    }
  } catch (error) {
    const code = errorCode(error);
    if (NO_RECORDS.has(code)) return [];
    if (code === CANCELLED) throw error;
    const via = servers === undefined ? 'the system resolvers' : servers.join(', ');
    throw discoveryFailed('dns', `${type} lookup of "${name}" via ${via} failed with ${code}`, error);
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'an unknown error';
}

function unique(peers: DiscoveredPeer[]): DiscoveredPeer[] {
  const byId = new Map<string, DiscoveredPeer>();
  for (const peer of peers) byId.set(`${peer.host}:${peer.port}`, peer);
  return [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, peer]) => peer);
}
