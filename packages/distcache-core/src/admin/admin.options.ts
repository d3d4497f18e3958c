import { invalidOption } from '../errors/messages';

/** Options of {@link adminServer}. */
export interface AdminServerOptions {
  /**
   * Interface to bind. The default keeps the endpoints on this machine; bind another address only
   * behind a network policy, and set a `token`.
   * @default '127.0.0.1'
   */
  host?: string;
  /** Port to listen on; `0` picks a free one (read it from `address` after `start()`). @default 3321 */
  port?: number;
  /**
   * Bearer token the JSON and metrics endpoints require (`Authorization: Bearer <token>`). The
   * dashboard page itself is static and served without it; it asks for the token (or reads it from
   * the URL fragment `#token=...`, which never reaches the server) and sends it with each request.
   * @default none: no authentication
   */
  token?: string;
  /** Require the token on `/healthz` and `/readyz` too (probes then send the header). @default false */
  protectHealth?: boolean;
  /** Serve `/metrics` in the Prometheus text format, from the engine's counters. @default false */
  prometheus?: boolean;
  /** Serve the live dashboard at `/`. @default true */
  dashboard?: boolean;
  /**
   * Host names (without port) accepted in the `Host` header while bound to a loopback address, in
   * addition to `localhost`, `127.0.0.1` and `::1`. The check stops a web page from reading the
   * endpoints through DNS rebinding. Not applied when bound to any other address.
   * @default []
   */
  allowedHosts?: readonly string[];
}

/** Admin server options with defaults filled in. */
export interface ResolvedAdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly protectHealth: boolean;
  readonly prometheus: boolean;
  readonly dashboard: boolean;
  readonly allowedHosts: readonly string[];
}

export const DEFAULT_ADMIN_HOST = '127.0.0.1';
export const DEFAULT_ADMIN_PORT = 3321;

const KNOWN: ReadonlySet<string> = new Set([
  'host',
  'port',
  'token',
  'protectHealth',
  'prometheus',
  'dashboard',
  'allowedHosts',
]);

/**
 * Validates admin server options and fills defaults. Pure.
 * @throws DistCacheError `E_INVALID_OPTION` naming the field under `admin.`
 */
export function resolveAdminServerOptions(options: AdminServerOptions = {}): ResolvedAdminServerOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('admin', 'must be an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw invalidOption(`admin.${key}`, 'is not a known admin server option');
  }
  const host = options.host ?? DEFAULT_ADMIN_HOST;
  if (typeof host !== 'string' || host.length === 0)
    throw invalidOption('admin.host', 'must be a non-empty string', host);
  const port = options.port ?? DEFAULT_ADMIN_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw invalidOption('admin.port', 'must be an integer from 0 to 65535', port);
  }
  const token = options.token;
  if (token !== undefined && (typeof token !== 'string' || !/^[\x21-\x7e]{16,}$/.test(token))) {
    throw invalidOption('admin.token', 'must be at least 16 printable ASCII characters without spaces');
  }
  const flag = (name: 'protectHealth' | 'prometheus' | 'dashboard', fallback: boolean): boolean => {
    const value = options[name] === undefined ? fallback : options[name];
    if (typeof value !== 'boolean') throw invalidOption(`admin.${name}`, 'must be a boolean', value);
    return value;
  };
  const allowedHosts: unknown = options.allowedHosts ?? [];
  if (!isNameList(allowedHosts)) throw invalidOption('admin.allowedHosts', 'must be an array of host names');
  return Object.freeze({
    host,
    port,
    token,
    protectHealth: flag('protectHealth', false),
    prometheus: flag('prometheus', false),
    dashboard: flag('dashboard', true),
    allowedHosts: Object.freeze(allowedHosts.map((name) => name.toLowerCase())),
  });
}

function isNameList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((name) => typeof name === 'string' && name.length > 0);
}
