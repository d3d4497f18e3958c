// Entry point distcache-core/dns: discovery from DNS A/AAAA or SRV records, through Node's own
// resolver (no third-party client).
export { DnsDiscovery, dnsDiscovery } from './dns.discovery';
export {
  type DnsCommonOptions,
  type DnsDiscoveryOptions,
  type DnsFamily,
  type DnsNameOptions,
  type DnsSrvOptions,
  type ResolvedDnsDiscoveryOptions,
  resolveDnsDiscoveryOptions,
  DEFAULT_DNS_FAMILY,
  DEFAULT_DNS_RESOLVE_TARGETS,
  DEFAULT_DNS_TIMEOUT,
  DEFAULT_DNS_TRIES,
} from './dns.options';
