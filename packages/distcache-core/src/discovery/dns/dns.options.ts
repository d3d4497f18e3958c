import { isIP } from 'node:net';
import { invalidOption } from '../../errors/messages';
import { type Duration, toPositiveMs } from '../../util/duration';
import { flag, integer, oneOf, type OptionFields, optionsObject } from '../../util/options';

/** Which address records are used: A (`4`), AAAA (`6`) or both (`'any'`). */
export type DnsFamily = 4 | 6 | 'any';

/** Settings shared by both modes of {@link dnsDiscovery}. */
export interface DnsCommonOptions {
  /**
   * DNS servers to ask, as `"ip"`, `"ip:port"` or `"[ipv6]:port"` (e.g. `['127.0.0.1:5353']`).
   * When omitted, the system's resolvers (`/etc/resolv.conf`) are used.
   */
  servers?: readonly string[];
  /**
   * Wait for one answer before the query is sent again. The resolver (c-ares) doubles the wait on
   * each further try, so a silent server fails a lookup after about
   * `timeout * (2^tries - 1)`. At most `'1m'`.
   * @default '1s'
   */
  timeout?: Duration;
  /** Attempts per query, the first included. @default 2 */
  tries?: number;
  /**
   * Address records to use: `4` (A), `6` (AAAA) or `'any'` (both). With `'any'`, a dual-stack node
   * is listed once per address, i.e. as two members: use it only when every node has one family.
   * @default 4
   */
  family?: DnsFamily;
}

/** Name mode: every A/AAAA address of `name` is a node listening on `port`. */
export interface DnsNameOptions extends DnsCommonOptions {
  /** The name whose address records list the nodes, e.g. a headless Service `cache.ns.svc.cluster.local`. */
  name: string;
  /** Peer-protocol port of every node (all nodes must use the same one). */
  port: number;
  srv?: never;
  resolveTargets?: never;
}

/** SRV mode: every SRV record of `srv` is a node, at the record's target and port. */
export interface DnsSrvOptions extends DnsCommonOptions {
  /** The SRV name, e.g. `_distcache._tcp.cache.ns.svc.cluster.local`. */
  srv: string;
  /**
   * Resolve each SRV target to its addresses (by `family`), so peers are dialled by IP. Set to
   * `false` when nodes advertise their DNS names (`advertiseHost`), e.g. StatefulSet pod names
   * checked by TLS: the target name is then the peer's host. A target that is already an IP
   * literal is used as it is either way.
   * @default true
   */
  resolveTargets?: boolean;
  name?: never;
  port?: never;
}

/** Options of {@link dnsDiscovery}: exactly one of `name` (with `port`) or `srv`. */
export type DnsDiscoveryOptions = DnsNameOptions | DnsSrvOptions;

interface ResolvedCommon {
  /** `undefined` keeps the system's resolvers. */
  readonly servers: readonly string[] | undefined;
  readonly timeoutMs: number;
  readonly tries: number;
  readonly family: DnsFamily;
}

/** {@link DnsDiscoveryOptions} with defaults filled in and durations in milliseconds. */
export type ResolvedDnsDiscoveryOptions =
  | (ResolvedCommon & { readonly mode: 'name'; readonly name: string; readonly port: number })
  | (ResolvedCommon & { readonly mode: 'srv'; readonly srv: string; readonly resolveTargets: boolean });

export const DEFAULT_DNS_TIMEOUT: Duration = '1s';
export const DEFAULT_DNS_TRIES = 2;
export const DEFAULT_DNS_FAMILY: DnsFamily = 4;
export const DEFAULT_DNS_RESOLVE_TARGETS = true;

const DNS: OptionFields = {
  what: 'dnsDiscovery option',
  fields: [
    'name',
    'port',
    'srv',
    'resolveTargets',
    'servers',
    'timeout',
    'tries',
    'family',
  ] satisfies ReadonlyArray<keyof DnsNameOptions | keyof DnsSrvOptions>,
};

// Letters, digits, '-' and '_' (SRV labels start with '_'), 1-63 per label, 253 in all.
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
// The resolver takes a 32-bit timeout; anything near a minute per try is a mistake anyway.
const MAX_TIMEOUT_MS = 60_000;
const SERVER = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;

/**
 * Validates the options of {@link dnsDiscovery} and fills defaults. Pure: no I/O.
 * @throws DistCacheError `E_INVALID_OPTION` naming the field (`discovery.name`, `discovery.port`, ...)
 */
export function resolveDnsDiscoveryOptions(options: DnsDiscoveryOptions): ResolvedDnsDiscoveryOptions {
  const input = optionsObject(
    options,
    'discovery',
    DNS,
    'must be an object with "name" and "port", or "srv"',
  );
  const common: ResolvedCommon = {
    servers: resolveServers(input.servers),
    timeoutMs: resolveTimeout(input.timeout),
    tries: resolveTries(input.tries),
    family: resolveFamily(input.family),
  };
  const { name, srv } = input;
  if (name !== undefined && srv !== undefined) {
    throw invalidOption('discovery.srv', 'cannot be combined with "name": use one mode');
  }
  if (srv !== undefined) {
    if (input.port !== undefined) {
      throw invalidOption('discovery.port', 'is taken from the SRV records in "srv" mode', input.port);
    }
    const resolveTargets = flag(
      input.resolveTargets,
      'discovery.resolveTargets',
      DEFAULT_DNS_RESOLVE_TARGETS,
    );
    return Object.freeze({ ...common, mode: 'srv', srv: domainName(srv, 'discovery.srv'), resolveTargets });
  }
  if (name === undefined) {
    throw invalidOption('discovery.name', 'is required: give "name" and "port", or "srv"');
  }
  if (input.resolveTargets !== undefined) {
    throw invalidOption('discovery.resolveTargets', 'applies to "srv" mode only', input.resolveTargets);
  }
  const port = integer(input.port, 'discovery.port', 1, 65_535);
  return Object.freeze({ ...common, mode: 'name', name: domainName(name, 'discovery.name'), port });
}

function domainName(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalidOption(path, 'must be a DNS name', value);
  const name = value.trim().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => LABEL.test(label))) {
    throw invalidOption(path, 'must be a DNS name such as "cache.svc.local"', value);
  }
  if (isIP(name) !== 0) {
    throw invalidOption(
      path,
      'is an IP address, not a DNS name: list fixed addresses with staticDiscovery',
      value,
    );
  }
  return name;
}

function resolveServers(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidOption('discovery.servers', 'must be a non-empty array of "ip" or "ip:port" strings', value);
  }
  return Object.freeze(
    value.map((server: unknown, index) => dnsServer(server, `discovery.servers[${index}]`)),
  );
}

/** `"ip"`, `"ipv4:port"` or `"[ipv6]:port"`: the forms `Resolver#setServers` accepts. */
function dnsServer(value: unknown, path: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (isIP(text) !== 0) return text;
  const match = SERVER.exec(text);
  const host = match?.[1] ?? match?.[2];
  const family = match?.[1] === undefined ? 4 : 6;
  const port = Number(match?.[3]);
  if (host === undefined || isIP(host) !== family || !(port >= 1 && port <= 65_535)) {
    throw invalidOption(path, 'must be an IP address, "ipv4:port" or "[ipv6]:port"', value);
  }
  return text;
}

function resolveTimeout(value: unknown): number {
  const timeoutMs = toPositiveMs(value ?? DEFAULT_DNS_TIMEOUT, 'discovery.timeout');
  if (timeoutMs > MAX_TIMEOUT_MS) throw invalidOption('discovery.timeout', 'must be at most "1m"', value);
  return timeoutMs;
}

function resolveTries(value: unknown): number {
  return integer(value ?? DEFAULT_DNS_TRIES, 'discovery.tries', 1, 10);
}

function resolveFamily(value: unknown): DnsFamily {
  return oneOf(value ?? DEFAULT_DNS_FAMILY, 'discovery.family', [4, 6, 'any']);
}
