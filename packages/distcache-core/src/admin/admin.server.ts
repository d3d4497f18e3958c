import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DistCacheError } from '../errors/distcache-error';
import {
  type AdminServerOptions,
  type ResolvedAdminServerOptions,
  resolveAdminServerOptions,
} from './admin.options';
import { StatsHistory } from './admin.history';
import { type AdminTarget, healthView, keySpacesView, peersView, readyView } from './admin.views';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard.page';
import { prometheusText } from './prometheus';

/** Where the admin server listens. */
export interface AdminAddress {
  readonly host: string;
  readonly port: number;
}

interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Who may call a route: anyone, token holders, or (health) anyone unless `protectHealth`. */
type Access = 'public' | 'token' | 'health';

interface Route {
  readonly access: Access;
  respond(path: string): Reply;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const ALLOW = 'GET, HEAD';
const LOOPBACK_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

const json = (status: number, body: unknown): Reply => ({
  status,
  type: JSON_TYPE,
  body: JSON.stringify(body),
});
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The admin HTTP server of one engine (`node:http`): JSON endpoints, an optional Prometheus text
 * endpoint, and the live dashboard. Bound to loopback by default, with an optional bearer token.
 *
 * | path | body |
 * | --- | --- |
 * | `GET /` | the dashboard (HTML) |
 * | `GET /peers` | {@link PeersView} |
 * | `GET /keyspaces`, `GET /keyspaces/:name` | {@link KeySpacesView}, one {@link KeySpaceView} |
 * | `GET /history` | {@link HistoryView}: counters sampled every 2 s over the last 5 minutes |
 * | `GET /healthz` | {@link HealthView}, 200 or 503 |
 * | `GET /readyz` | {@link ReadyView}, 200 or 503 |
 * | `GET /metrics` | Prometheus text (with `prometheus: true`) |
 *
 * Other methods get 405, unknown paths 404, a missing or wrong token 401.
 */
export class AdminServer {
  /** The validated options. */
  readonly options: ResolvedAdminServerOptions;
  private server: Server | undefined;
  private listening: Promise<AdminAddress> | undefined;
  private bound: AdminAddress | undefined;
  private readonly routes: ReadonlyMap<string, Route>;
  private readonly tokenDigest: Buffer | undefined;
  private readonly history: StatsHistory;

  /** @throws DistCacheError `E_INVALID_OPTION` naming the field under `admin.` */
  constructor(
    private readonly target: AdminTarget,
    options: AdminServerOptions = {},
  ) {
    this.options = resolveAdminServerOptions(options);
    this.tokenDigest = this.options.token === undefined ? undefined : digest(this.options.token);
    this.history = new StatsHistory(target);
    this.routes = this.buildRoutes();
  }

  /** The bound address once started (the real port when `port` was 0). */
  get address(): AdminAddress | undefined {
    return this.bound;
  }

  /** `http://host:port/` once started. */
  get url(): string | undefined {
    if (this.bound === undefined) return undefined;
    const host = this.bound.host.includes(':') ? `[${this.bound.host}]` : this.bound.host;
    return `http://${host}:${this.bound.port}/`;
  }

  /**
   * Starts listening. Idempotent: a second call returns the same address.
   * @throws DistCacheError `E_START_FAILED` when the address cannot be bound (with `cause`)
   */
  start(): Promise<AdminAddress> {
    this.listening ??= new Promise<AdminAddress>((resolve, reject) => {
      const server = createServer((request, response) => this.handle(request, response));
      const { host, port } = this.options;
      server.once('error', (error) => {
        this.listening = undefined;
        reject(
          new DistCacheError(
            'E_START_FAILED',
            `Admin server cannot listen on ${host}:${port}: ${error.message}`,
            {
              cause: error,
            },
          ),
        );
      });
      server.listen(port, host, () => {
        const address = server.address() as AddressInfo;
        this.server = server;
        this.bound = { host, port: address.port };
        this.history.start();
        resolve(this.bound);
      });
    });
    return this.listening;
  }

  /** Stops listening and closes open connections (dashboards keep theirs alive). Idempotent. */
  async stop(): Promise<void> {
    const pending = this.listening;
    if (pending === undefined) return;
    await pending.catch(() => undefined);
    const server = this.server;
    this.listening = undefined;
    this.server = undefined;
    this.bound = undefined;
    this.history.stop();
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /**
   * The request handler, to mount the endpoints on a server of your own instead of calling
   * `start()` (they expect to be at the root of the path).
   */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    request.resume();
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    let reply: Reply;
    try {
      reply = this.reply(request, path);
    } catch (error) {
      reply = json(500, {
        error: 'internal error',
        message: error instanceof Error ? error.message : String(error),
      });
    }
    const headers: Record<string, string | number> = {
      'content-type': reply.type,
      'content-length': Buffer.byteLength(reply.body),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...reply.headers,
    };
    response.writeHead(reply.status, headers);
    response.end(request.method === 'HEAD' ? undefined : reply.body);
  };

  private reply(request: IncomingMessage, path: string): Reply {
    if (!this.hostAllowed(request.headers.host)) return json(403, { error: 'host not allowed' });
    const route = this.route(path);
    if (route === undefined) return json(404, { error: 'not found', path });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return { ...json(405, { error: 'method not allowed', allow: ALLOW }), headers: { allow: ALLOW } };
    }
    const guarded = route.access === 'token' || (route.access === 'health' && this.options.protectHealth);
    if (guarded && !this.authorized(request.headers.authorization)) {
      return {
        ...json(401, { error: 'unauthorized' }),
        headers: { 'www-authenticate': 'Bearer realm="distcache-admin"' },
      };
    }
    return route.respond(path);
  }

  private route(path: string): Route | undefined {
    const exact = this.routes.get(path);
    if (exact !== undefined) return exact;
    return path.startsWith('/keyspaces/') ? this.routes.get('/keyspaces/:name') : undefined;
  }

  private buildRoutes(): Map<string, Route> {
    const target = this.target;
    const routes = new Map<string, Route>([
      ['/peers', { access: 'token', respond: () => json(200, peersView(target)) }],
      ['/keyspaces', { access: 'token', respond: () => json(200, keySpacesView(target, Date.now())) }],
      ['/history', { access: 'token', respond: () => json(200, this.history.view()) }],
      [
        '/keyspaces/:name',
        {
          access: 'token',
          respond: (path) => {
            const name = safeDecode(path.slice('/keyspaces/'.length));
            const found = keySpacesView(target, Date.now()).keySpaces.find((space) => space.name === name);
            return found === undefined ? json(404, { error: 'keyspace not found', name }) : json(200, found);
          },
        },
      ],
      [
        '/healthz',
        {
          access: 'health',
          respond: () => {
            const view = healthView(target);
            return json(view.status === 'failing' ? 503 : 200, view);
          },
        },
      ],
      [
        '/readyz',
        {
          access: 'health',
          respond: () => {
            const view = readyView(target);
            return json(view.ready ? 200 : 503, view);
          },
        },
      ],
    ]);
    if (this.options.prometheus) {
      routes.set('/metrics', {
        access: 'token',
        respond: () => ({
          status: 200,
          type: 'text/plain; version=0.0.4; charset=utf-8',
          body: prometheusText(target),
        }),
      });
    }
    if (this.options.dashboard) {
      routes.set('/', {
        access: 'public',
        respond: () => ({
          status: 200,
          type: 'text/html; charset=utf-8',
          body: DASHBOARD_HTML,
          headers: { 'content-security-policy': DASHBOARD_CSP, 'x-frame-options': 'DENY' },
        }),
      });
    }
    return routes;
  }

  private authorized(header: string | undefined): boolean {
    if (this.tokenDigest === undefined) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    // Digests have one length, so the comparison takes the same time whatever was sent.
    return match !== null && timingSafeEqual(digest(match[1] as string), this.tokenDigest);
  }

  /** While bound to loopback, only local names may appear in `Host` (no DNS rebinding). */
  private hostAllowed(header: string | undefined): boolean {
    if (header === undefined || !isLoopback(this.options.host)) return true;
    const name = (
      header.startsWith('[') ? header.slice(1, header.indexOf(']')) : (header.split(':')[0] ?? '')
    ).toLowerCase();
    return (
      LOOPBACK_NAMES.includes(name) ||
      name === this.options.host.toLowerCase() ||
      this.options.allowedHosts.includes(name)
    );
  }
}

/**
 * Creates the admin server of `engine` (not started: call `start()`).
 *
 * @example
 * const admin = adminServer(engine, { port: 3321, token: process.env.DISTCACHE_ADMIN_TOKEN });
 * await admin.start();
 * // ... on shutdown
 * await admin.stop();
 * @throws DistCacheError `E_INVALID_OPTION` naming the field under `admin.`
 */
export function adminServer(engine: AdminTarget, options?: AdminServerOptions): AdminServer {
  return new AdminServer(engine, options);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
