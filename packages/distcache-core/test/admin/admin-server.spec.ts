// The admin HTTP server against real engines: endpoint shapes, status codes, the token, methods,
// the Host check, the Prometheus text and the dashboard page's self-containment.
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AdminServer,
  adminServer,
  type AdminServerOptions,
  type AdminTarget,
  HISTORY_INTERVAL_MS,
  type HistoryView,
  type KeySpacesView,
  type KeySpaceView,
  type PeersView,
  type ReadyView,
} from '../../src/admin';
import { DistCacheEngine, isDistCacheError } from '../../src';
import { startedEngine } from '../support/engine.fixture';
import { startCluster, stopAll, type TestNode } from '../support/cluster';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with full control of method and headers (fetch would not let us set `Host`). */
function call(
  server: AdminServer,
  path: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const { host, port } = server.address!;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host, port, path, method: init.method ?? 'GET', headers: init.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const bodyOf = <T>(answer: Answer): T => JSON.parse(answer.body) as T;
const TOKEN = 'test-token-0123456789abcdef';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(target: AdminTarget, options: AdminServerOptions = {}): Promise<AdminServer> {
  const server = adminServer(target, { port: 0, ...options });
  cleanups.push(() => server.stop());
  await server.start();
  return server;
}

async function engineWithAdmin(
  options: AdminServerOptions = {},
): Promise<{ engine: DistCacheEngine; server: AdminServer }> {
  const { engine } = await startedEngine(
    { ttl: '5m', negativeTtl: '30s', circuitBreaker: true },
    { nodeName: 'admin-node' },
  );
  cleanups.push(() => engine.stop());
  return { engine, server: await serve(engine, options) };
}

describe('admin JSON endpoints', () => {
  it('GET /peers lists this node with its state and ring share', async () => {
    const { server } = await engineWithAdmin();
    const answer = await call(server, '/peers');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(bodyOf<PeersView>(answer)).toEqual({
      node: 'admin-node',
      cluster: 'distcache',
      state: 'running',
      members: 1,
      minMembers: 1,
      peers: [
        {
          id: '127.0.0.1:3320',
          host: '127.0.0.1',
          port: 3320,
          nodeName: 'admin-node',
          status: 'self',
          ownershipShare: 1,
          lastSeenAt: null,
          problem: null,
        },
      ],
    });
  });

  it('GET /keyspaces gives stats and the effective config with durations in milliseconds', async () => {
    const { engine, server } = await engineWithAdmin();
    await engine.get('products', '1');
    await engine.get('products', '1');
    const body = bodyOf<KeySpacesView>(await call(server, '/keyspaces'));
    expect(body.node).toBe('admin-node');
    expect(typeof body.at).toBe('number');
    expect(body.keySpaces).toHaveLength(1);
    const [space] = body.keySpaces as [KeySpaceView];
    expect(space.name).toBe('products');
    expect(space.stats).toMatchObject({
      gets: 2,
      hits: 1,
      misses: 1,
      loads: 1,
      hitRatio: 0.5,
      breaker: 'closed',
    });
    expect(space.config).toMatchObject({
      ttlMs: 300_000,
      negativeTtlMs: 30_000,
      readTimeoutMs: 5_000,
      writeTimeoutMs: 5_000,
      graceMs: 0,
      circuitBreaker: { resetTimeoutMs: 10_000, rollingWindowMs: 10_000 },
    });
    // No duration is reported in any other unit: every duration field ends in Ms.
    const durationish =
      JSON.stringify(space.config).match(/"\w*(?:ttl|timeout|window|grace|wait)\w*"/gi) ?? [];
    expect(durationish.filter((name) => !name.endsWith('Ms"'))).toEqual([]);

    const one = await call(server, '/keyspaces/products');
    expect(one.status).toBe(200);
    expect(bodyOf<KeySpaceView>(one).name).toBe('products');
    expect((await call(server, '/keyspaces/nope')).status).toBe(404);
  });

  it('GET /history holds the counters sampled since the server started', async () => {
    const { engine, server } = await engineWithAdmin();
    await engine.get('products', '1');
    const body = bodyOf<HistoryView>(await call(server, '/history'));
    expect(body).toMatchObject({ node: 'admin-node', intervalMs: HISTORY_INTERVAL_MS });
    // The first sample is taken at start, before the read.
    expect(body.samples[0]?.keySpaces.products).toEqual({
      gets: 0,
      hits: 0,
      loads: 0,
      loadErrors: 0,
      staleHits: 0,
    });
    expect(typeof body.samples[0]?.at).toBe('number');
  });

  it('GET /healthz and /readyz follow the engine state', async () => {
    const engine = new DistCacheEngine({ nodeName: 'lifecycle', keySpaces: [{ name: 'a' }] });
    const server = await serve(engine);
    const idle = await call(server, '/readyz');
    expect(idle.status).toBe(503);
    expect(bodyOf<ReadyView>(idle)).toEqual({
      ready: false,
      state: 'idle',
      members: 1,
      minMembers: 1,
      reasons: ['engine is idle'],
    });
    await engine.start();
    expect((await call(server, '/readyz')).status).toBe(200);
    expect(bodyOf(await call(server, '/healthz'))).toEqual({
      status: 'ok',
      state: 'running',
      openBreakers: [],
      peerProblems: [],
    });
    await engine.stop();
    const stopped = await call(server, '/healthz');
    expect(stopped.status).toBe(503);
    expect(bodyOf(stopped)).toMatchObject({ status: 'failing', state: 'stopped' });
  });

  it('GET /readyz is 503 while the quorum is not met', async () => {
    const fake: AdminTarget = {
      state: 'running',
      stats: () => ({ nodeName: 'n', cluster: 'c', state: 'running', members: 2, keySpaces: {} }),
      peers: () => [],
      options: { clusterOptions: { minMembers: 3 } },
    };
    const server = await serve(fake);
    const answer = await call(server, '/readyz');
    expect(answer.status).toBe(503);
    expect(bodyOf<ReadyView>(answer)).toMatchObject({
      ready: false,
      members: 2,
      minMembers: 3,
      reasons: ['2 of 3 members'],
    });
  });
});

describe('admin HTTP rules', () => {
  it('answers 405 with Allow for other methods, 404 for unknown paths, and HEAD without a body', async () => {
    const { server } = await engineWithAdmin();
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const answer = await call(server, '/peers', { method });
      expect(answer.status, method).toBe(405);
      expect(answer.headers.allow).toBe('GET, HEAD');
    }
    expect((await call(server, '/nope')).status).toBe(404);
    expect((await call(server, '/metrics')).status).toBe(404); // prometheus is opt-in
    const head = await call(server, '/peers', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect((await call(server, '/peers?pretty=1')).status).toBe(200);
  });

  it('requires the bearer token on data endpoints, not on health checks or the page shell', async () => {
    const { server } = await engineWithAdmin({ token: TOKEN, prometheus: true });
    for (const path of ['/peers', '/keyspaces', '/keyspaces/products', '/history', '/metrics']) {
      const missing = await call(server, path);
      expect(missing.status, path).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="distcache-admin"');
      expect(
        (await call(server, path, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status,
      ).toBe(401);
      expect((await call(server, path, { headers: { authorization: TOKEN } })).status).toBe(401);
      expect((await call(server, path, { headers: { authorization: `Bearer ${TOKEN}` } })).status, path).toBe(
        200,
      );
    }
    for (const path of ['/healthz', '/readyz', '/'])
      expect((await call(server, path)).status, path).toBe(200);
  });

  it('requires the token on health checks too with protectHealth', async () => {
    const { server } = await engineWithAdmin({ token: TOKEN, protectHealth: true });
    expect((await call(server, '/healthz')).status).toBe(401);
    expect((await call(server, '/readyz', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(
      200,
    );
  });

  it('refuses foreign Host names while bound to loopback (DNS rebinding)', async () => {
    const { server } = await engineWithAdmin({ allowedHosts: ['cache.internal'] });
    const port = server.address!.port;
    expect((await call(server, '/peers', { headers: { host: `attacker.example:${port}` } })).status).toBe(
      403,
    );
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      `cache.internal:${port}`,
    ]) {
      expect((await call(server, '/peers', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('starts once, stops idempotently, and reports a busy port as E_START_FAILED', async () => {
    const { engine, server } = await engineWithAdmin();
    expect(await server.start()).toEqual(server.address);
    expect(server.url).toBe(`http://127.0.0.1:${server.address!.port}/`);
    const clash = adminServer(engine, { port: server.address!.port });
    const error = await clash.start().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isDistCacheError(error, 'E_START_FAILED')).toBe(true);
    await server.stop();
    await server.stop();
    expect(server.address).toBeUndefined();
  });

  it('validates its options at construction', () => {
    const engine = new DistCacheEngine();
    for (const [options, field] of [
      [{ token: 'short' }, 'admin.token'],
      [{ port: 70_000 }, 'admin.port'],
      [{ prometheus: 'yes' }, 'admin.prometheus'],
      [{ tls: true }, 'admin.tls'],
    ] as const) {
      expect(() => adminServer(engine, options as AdminServerOptions), field).toThrow(field);
    }
  });
});

describe('Prometheus text', () => {
  it('exposes counters, gauges, breakers and peers in the text format', async () => {
    const { engine, server } = await engineWithAdmin({ prometheus: true });
    await engine.get('products', '1');
    await engine.get('products', '1');
    const answer = await call(server, '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = answer.body.trimEnd().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        '# TYPE distcache_gets_total counter',
        'distcache_gets_total{keyspace="products"} 2',
        'distcache_hits_total{keyspace="products"} 1',
        'distcache_keyspace_hit_ratio{keyspace="products"} 0.5',
        'distcache_breaker_state{keyspace="products",state="closed"} 1',
        'distcache_breaker_state{keyspace="products",state="open"} 0',
        'distcache_members 1',
        'distcache_ready 1',
        'distcache_info{node="admin-node",cluster="distcache",state="running"} 1',
        'distcache_peer_up{peer="127.0.0.1:3320",node="admin-node"} 1',
      ]),
    );
    // Every sample follows its own family's TYPE line, and families are not interleaved.
    const seen = new Set<string>();
    let family = '';
    for (const line of lines) {
      const type = /^# TYPE (\w+) (counter|gauge)$/.exec(line);
      if (type !== null) {
        expect(seen.has(type[1]!), type[1]).toBe(false);
        seen.add(type[1]!);
        family = type[1]!;
        continue;
      }
      if (line.startsWith('# HELP ')) continue;
      expect(line, line).toMatch(/^(\w+)(\{[^}]*\})? -?[\d.e+-]+$/);
      expect(line.split(/[{ ]/)[0]).toBe(family);
    }
  });
});

describe('dashboard page', () => {
  it('is self-contained: inline style and script pinned by its CSP, no external request', async () => {
    const { server } = await engineWithAdmin();
    const answer = await call(server, '/');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = answer.body;
    const csp = String(answer.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
    const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(csp).toContain(`script-src ${sha(script)}`);
    expect(csp).toContain(`style-src ${sha(style)}`);
    expect(html).not.toMatch(/\s(?:src|href|action)=/i);
    expect(html).not.toMatch(/@import|url\(/i);
    // The only absolute URL is the SVG namespace, which is a name, not a request.
    expect(html.match(/https?:\/\/[^\s'"]+/g)).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).not.toMatch(/\sstyle=/i);
    // The page fetches the JSON endpoints next to it.
    for (const endpoint of ['peers', 'keyspaces', 'readyz']) expect(script).toContain(`"${endpoint}"`);
    // The script is the browser bundle of src/admin/browser: one IIFE that loads no module.
    expect(script).toContain('// src/admin/browser/dashboard.ts');
    expect(script).not.toMatch(/\bimport\b|\brequire\(|\bexport\b|node:/);
  });

  it('is not served with dashboard: false', async () => {
    const { server } = await engineWithAdmin({ dashboard: false });
    expect((await call(server, '/')).status).toBe(404);
  });
});

describe('admin server of a cluster node', () => {
  it('lists every member with its state and a ring share, the shares summing to one', async () => {
    const nodes: Array<TestNode<string>> = await startCluster(3, [['1', 'one']]);
    cleanups.push(() => stopAll(nodes));
    const server = await serve(nodes[0]!.engine);
    const body = bodyOf<PeersView>(await call(server, '/peers'));
    expect(body.members).toBe(3);
    expect(body.peers.map((peer) => peer.status).sort()).toEqual(['alive', 'alive', 'self']);
    expect(body.peers.map((peer) => peer.nodeName).sort()).toEqual(['node-a', 'node-b', 'node-c']);
    const total = body.peers.reduce((sum, peer) => sum + peer.ownershipShare, 0);
    expect(total).toBeCloseTo(1, 6);
    for (const peer of body.peers.filter((p) => p.status === 'alive'))
      expect(typeof peer.lastSeenAt).toBe('number');
  });
});
