import { Resolver } from 'node:dns/promises';
import { type DistCacheError, isDistCacheError } from '../../errors/distcache-error';
import { aborted, discoveryFailed } from '../../errors/messages';
import { abortable } from '../../util/abort';
import type { DiscoveredPeer, DiscoveryProvider } from '../discovery';
import { lookupPeers } from './dns.lookup';
import {
  type DnsDiscoveryOptions,
  type ResolvedDnsDiscoveryOptions,
  resolveDnsDiscoveryOptions,
} from './dns.options';

const OPERATION = 'DNS discovery';

/**
 * Discovery through DNS, see {@link dnsDiscovery}. DNS is managed by the platform (Kubernetes,
 * Consul, a zone file), so `register` and `deregister` do nothing, and the list is read by polling:
 * the engine calls `discoverPeers` every `clusterOptions.discoveryInterval`. There is no `watch`.
 */
export class DnsDiscovery implements DiscoveryProvider {
  readonly name = 'dns';
  /** The validated options, defaults filled in. */
  readonly options: ResolvedDnsDiscoveryOptions;
  private closed = false;
  /** One controller per lookup in flight, so `close()` can cancel them. */
  private readonly inFlight = new Set<AbortController>();

  /** @throws DistCacheError `E_INVALID_OPTION` naming the field */
  constructor(options: DnsDiscoveryOptions) {
    this.options = resolveDnsDiscoveryOptions(options);
  }

  initialize(): Promise<void> {
    return this.closed ? Promise.reject(closedError()) : Promise.resolve();
  }

  /** No-op: DNS records are managed by the platform, not by the nodes. */
  register(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Resolves the configured name. No records (NXDOMAIN, NODATA) is an empty list, not an error.
   * @throws DistCacheError `E_DISCOVERY_FAILED` when a query fails (timeout, refused, SERVFAIL) or
   * the provider is closed; `E_ABORTED` when `signal` fires (the queries are cancelled)
   */
  async discoverPeers(signal: AbortSignal): Promise<DiscoveredPeer[]> {
    if (this.closed) throw closedError();
    if (signal.aborted) throw aborted(OPERATION, signal.reason);
    // A resolver per lookup: `cancel()` cancels every query of a resolver, so a shared one would
    // let one caller's abort fail another's lookup. Creating one is cheap next to a poll interval.
    const resolver = new Resolver({ timeout: this.options.timeoutMs, tries: this.options.tries });
    if (this.options.servers !== undefined) resolver.setServers(this.options.servers);
    // Aborted by the caller's signal or by close(); either way every query is cancelled.
    const call = new AbortController();
    call.signal.addEventListener('abort', () => resolver.cancel(), { once: true });
    const cancel = (): void => call.abort();
    signal.addEventListener('abort', cancel, { once: true });
    this.inFlight.add(call);
    try {
      // abortable: a query issued between two stages after cancel() would otherwise run to its timeout.
      return await abortable(lookupPeers(resolver, this.options, call.signal), call.signal);
    } catch (error) {
      if (signal.aborted) throw aborted(OPERATION, signal.reason);
      if (this.closed) throw closedError(error);
      throw asDiscoveryError(error);
    } finally {
      signal.removeEventListener('abort', cancel);
      this.inFlight.delete(call);
    }
  }

  /** No-op: see {@link register}. */
  deregister(): Promise<void> {
    return Promise.resolve();
  }

  /** Cancels lookups in flight; later `discoverPeers` calls reject. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    for (const call of this.inFlight) call.abort();
    this.inFlight.clear();
    return Promise.resolve();
  }
}

/**
 * Discovery from DNS records, polled at the engine's `clusterOptions.discoveryInterval`.
 *
 * - `{ name, port }`: every A (or AAAA, see `family`) address of `name` is a node listening on
 *   `port`, e.g. a Kubernetes headless Service.
 * - `{ srv }`: every SRV record of `srv` is a node at the record's port; its target is resolved
 *   to addresses (or used as is when it is an IP, or when `resolveTargets` is `false`).
 *
 * No records at all (NXDOMAIN or NODATA) is an empty candidate list: a service scaled to zero is
 * not a failure. A failed query rejects `discoverPeers` with `E_DISCOVERY_FAILED`, and the engine
 * then keeps its current members. Nodes must advertise the address DNS lists for them
 * (`advertiseHost`), so that each one recognises itself in the list.
 *
 * @throws DistCacheError `E_INVALID_OPTION` naming the field (`discovery.name`, `discovery.port`, ...)
 * @example
 * import { DistCacheEngine } from 'distcache-core';
 * import { dnsDiscovery } from 'distcache-core/dns';
 *
 * const engine = new DistCacheEngine({
 *   host: '0.0.0.0',
 *   advertiseHost: process.env.POD_IP,
 *   port: 3320,
 *   discovery: dnsDiscovery({ srv: '_distcache._tcp.catalogue-cache.shop.svc.cluster.local' }),
 *   // or: dnsDiscovery({ name: 'catalogue-cache.shop.svc.cluster.local', port: 3320 })
 *   keySpaces: [{ name: 'products', dataSource: { fetch: (id) => db.product(id) } }],
 * });
 */
export function dnsDiscovery(options: DnsDiscoveryOptions): DnsDiscovery {
  return new DnsDiscovery(options);
}

function closedError(cause?: unknown): DistCacheError {
  return discoveryFailed('dns', 'the provider is closed', cause);
}

function asDiscoveryError(error: unknown): DistCacheError {
  if (isDistCacheError(error)) return error;
  return discoveryFailed('dns', `lookup failed: ${String(error)}`, error);
}
