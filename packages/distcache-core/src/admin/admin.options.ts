import {
  flag,
  integer,
  matching,
  nonEmptyString,
  type OptionFields,
  optionsObject,
  stringList,
} from '../util/options';

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

const ADMIN_FIELDS: OptionFields = {
  what: 'admin server option',
  fields: ['host', 'port', 'token', 'protectHealth', 'prometheus', 'dashboard', 'allowedHosts'],
};

/**
 * Validates admin server options and fills defaults. Pure.
 * @throws DistCacheError `E_INVALID_OPTION` naming the field under `admin.`
 */
export function resolveAdminServerOptions(options: AdminServerOptions = {}): ResolvedAdminServerOptions {
  const input: AdminServerOptions = optionsObject(options, 'admin', ADMIN_FIELDS);
  return Object.freeze({
    host: nonEmptyString(input.host ?? DEFAULT_ADMIN_HOST, 'admin.host'),
    port: integer(input.port ?? DEFAULT_ADMIN_PORT, 'admin.port', 0, 65_535),
    token:
      input.token === undefined
        ? undefined
        : matching(
            input.token,
            'admin.token',
            /^[\x21-\x7e]{16,}$/,
            'must be at least 16 printable ASCII characters without spaces',
            true,
          ),
    protectHealth: flag(input.protectHealth, 'admin.protectHealth', false),
    prometheus: flag(input.prometheus, 'admin.prometheus', false),
    dashboard: flag(input.dashboard, 'admin.dashboard', true),
    allowedHosts: Object.freeze(
      stringList(input.allowedHosts ?? [], 'admin.allowedHosts', 'host names').map((name) =>
        name.toLowerCase(),
      ),
    ),
  });
}
