// Security of the application-facing surfaces (issue 10): oversized keys and values through every
// public API of a cluster node, the admin endpoints without the token, and JSON input that tries
// to pollute prototypes. The peer port has its own suite (security.spec.ts).
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminServer, adminServer } from '../../src/admin';
import { DistCacheEngine, isDistCacheError, jsonCodec } from '../../src';
import { startedEngine } from '../support/engine.fixture';
import { ownerOf, startCluster, stopAll, type TestNode } from '../support/cluster';
import { RecordingLogger } from '../transport/helpers';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The error code `work` fails with (a description when it does not fail with a DistCacheError). */
async function codeOf(work: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    return isDistCacheError(error) ? error.code : `not a DistCacheError: ${String(error)}`;
  }
  return 'no error';
}

describe('oversized keys and values through every public API', () => {
  const MAX_KEY = 64;
  const MAX_VALUE = 1024;
  const long = 'k'.repeat(MAX_KEY + 1);
  // Six characters, 18 bytes of UTF-8: the limit counts bytes.
  const wide = '€'.repeat(22);
  const big = { blob: 'x'.repeat(2 * MAX_VALUE) };

  it('answers E_INVALID_KEY / E_VALUE_TOO_LARGE and leaves the cache and the cluster intact', async () => {
    // The source holds oversized values under some keys, to be "loaded".
    const data: Array<[string, unknown]> = Array.from({ length: 40 }, (_, i) => [`huge-${i}`, big]);
    data.push(...Array.from({ length: 40 }, (_, i): [string, unknown] => [`ok-${i}`, { i }]));
    const nodes: Array<TestNode<unknown>> = await startCluster(
      3,
      data,
      { maxValueBytes: MAX_VALUE },
      { maxKeyBytes: MAX_KEY },
    );
    cleanups.push(() => stopAll(nodes));
    const [a, b] = nodes as [TestNode<unknown>, TestNode<unknown>];
    const engine = a.engine;
    // Known entries, local to a and owned elsewhere, to check they survive every refusal.
    const keys = data.map(([key]) => key).filter((key) => key.startsWith('ok-'));
    await engine.putMany(
      'products',
      keys.map((key) => ({ key, value: { kept: key } })),
    );
    const snapshot = () => nodes.map((node) => node.engine.stats().keySpaces.products!.items);
    const before = snapshot();
    const hugeLocal = data.map(([k]) => k).find((k) => k.startsWith('huge') && ownerOf(nodes, k) === a)!;
    const hugeRemote = data.map(([k]) => k).find((k) => k.startsWith('huge') && ownerOf(nodes, k) === b)!;

    const outcomes: Record<string, string> = {
      'get long key': await codeOf(engine.get('products', long)),
      'get wide key': await codeOf(engine.get('products', wide)),
      'getMany with a long key': await codeOf(engine.getMany('products', ['ok-1', long])),
      'put long key': await codeOf(engine.put('products', long, 1)),
      'put big value': await codeOf(engine.put('products', 'ok-1', big)),
      'put big value to a remote owner': await codeOf(engine.put('products', hugeRemote, big)),
      'putMany with a long key': await codeOf(
        engine.putMany('products', [
          { key: 'ok-2', value: 2 },
          { key: long, value: 1 },
        ]),
      ),
      'putMany with a big value': await codeOf(
        engine.putMany<unknown>('products', [
          { key: 'ok-2', value: 2 },
          { key: 'ok-3', value: big },
        ]),
      ),
      'delete long key': await codeOf(engine.delete('products', long)),
      'deleteMany with a long key': await codeOf(engine.deleteMany('products', ['ok-1', long])),
      'source returns a big value (this node owns the key)': await codeOf(engine.get('products', hugeLocal)),
      'source returns a big value (a peer owns the key)': await codeOf(engine.get('products', hugeRemote)),
      'getMany where the source returns a big value': await codeOf(
        engine.getMany('products', [hugeLocal, hugeRemote]),
      ),
      'deleteKeySpace with a long name': await codeOf(engine.deleteKeySpace('x'.repeat(100_000))),
      'addKeySpace with a long warm key': await codeOf(() =>
        engine.addKeySpace({ name: 'warm', warmKeys: ['ok', long] }),
      ),
    };
    expect(outcomes).toEqual({
      'get long key': 'E_INVALID_KEY',
      'get wide key': 'E_INVALID_KEY',
      'getMany with a long key': 'E_INVALID_KEY',
      'put long key': 'E_INVALID_KEY',
      'put big value': 'E_VALUE_TOO_LARGE',
      'put big value to a remote owner': 'E_VALUE_TOO_LARGE',
      'putMany with a long key': 'E_INVALID_KEY',
      'putMany with a big value': 'E_VALUE_TOO_LARGE',
      'delete long key': 'E_INVALID_KEY',
      'deleteMany with a long key': 'E_INVALID_KEY',
      'source returns a big value (this node owns the key)': 'E_VALUE_TOO_LARGE',
      'source returns a big value (a peer owns the key)': 'E_VALUE_TOO_LARGE',
      'getMany where the source returns a big value': 'E_VALUE_TOO_LARGE',
      'deleteKeySpace with a long name': 'E_KEYSPACE_NOT_FOUND',
      'addKeySpace with a long warm key': 'E_INVALID_OPTION',
    });
    // Nothing was stored, removed or sent to a source with a long key; the cluster still shares.
    expect(snapshot()).toEqual(before);
    for (const node of nodes)
      expect(node.source.calls.every((call) => call.key.length <= MAX_KEY)).toBe(true);
    for (const key of keys) expect(await nodes[2]!.engine.get('products', key)).toEqual({ kept: key });
    expect(nodes.every((node) => node.source.calls.every((call) => !call.key.startsWith('ok-')))).toBe(true);
    expect(nodes.every((node) => node.engine.stats().members === 3)).toBe(true);
    expect(engine.keySpaces()).toEqual(['products']);
  });

  it('refuses long static warm keys at construction and skips long ones a warmKeys function returns', async () => {
    const construct = () =>
      new DistCacheEngine({ maxKeyBytes: MAX_KEY, keySpaces: [{ name: 'products', warmKeys: ['a', long] }] });
    expect(await codeOf(construct)).toBe('E_INVALID_OPTION');
    expect(construct).toThrow(/keySpaces\[0\]\.warmKeys\[1\]/);

    const loaded: string[] = [];
    const logger = new RecordingLogger();
    const engine = new DistCacheEngine({
      maxKeyBytes: MAX_KEY,
      logger,
      keySpaces: [
        {
          name: 'products',
          warmKeys: () => ['a', long, 'b'],
          dataSource: async (key: string) => {
            loaded.push(key);
            return { key };
          },
        },
      ],
    });
    cleanups.push(() => engine.stop());
    await engine.start();
    expect(loaded.sort()).toEqual(['a', 'b']);
    expect(logger.warnings).toEqual(['warm key skipped']);
  });

  it('a standalone engine refuses the same inputs (no cluster path involved)', async () => {
    const engine = new DistCacheEngine({
      maxKeyBytes: MAX_KEY,
      keySpaces: [{ name: 'products', maxValueBytes: MAX_VALUE, dataSource: async () => big }],
    });
    cleanups.push(() => engine.stop());
    await engine.start();
    expect(await codeOf(engine.get('products', long))).toBe('E_INVALID_KEY');
    expect(await codeOf(engine.get('products', 'loads-big'))).toBe('E_VALUE_TOO_LARGE');
    expect(await codeOf(engine.put('products', 'x', big))).toBe('E_VALUE_TOO_LARGE');
    expect(engine.stats().keySpaces.products!.items).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('admin endpoints without the token', () => {
  const TOKEN = 'admin-token-0123456789abcdef';

  function call(
    server: AdminServer,
    path: string,
    method: string,
    authorization?: string,
  ): Promise<{ status: number; body: string; authenticate: unknown }> {
    const { host, port } = server.address!;
    const headers = authorization === undefined ? {} : { authorization };
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host, port, path, method, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, authenticate: res.headers['www-authenticate'] }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('answers 401, with no data, on every endpoint for every wrong or missing credential', async () => {
    const { engine } = await startedEngine({}, { nodeName: 'secret-node-name' });
    cleanups.push(() => engine.stop());
    const server = adminServer(engine, { port: 0, token: TOKEN, prometheus: true, protectHealth: true });
    cleanups.push(() => server.stop());
    await server.start();
    const paths = [
      '/peers',
      '/keyspaces',
      '/keyspaces/products',
      '/keyspaces/does-not-exist', // 401, not 404: keyspace names cannot be probed
      '/keyspaces/%2e%2e%2fpeers',
      '/history',
      '/metrics',
      '/healthz',
      '/readyz',
    ];
    const wrong = [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Bearer wrong-token-0123456789abcdef',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN} ${TOKEN}`,
      `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`,
      `Token ${TOKEN}`,
      TOKEN,
    ];
    const missing = new Set(['/keyspaces/does-not-exist', '/keyspaces/%2e%2e%2fpeers']);
    let refused = 0;
    for (const path of paths) {
      for (const method of ['GET', 'HEAD']) {
        for (const authorization of wrong) {
          const answer = await call(server, path, method, authorization);
          const label = `${method} ${path} with ${JSON.stringify(authorization)}`;
          expect(answer.status, label).toBe(401);
          expect(answer.authenticate, label).toBe('Bearer realm="distcache-admin"');
          expect(answer.body, label).toBe(method === 'HEAD' ? '' : '{"error":"unauthorized"}');
          refused += 1;
        }
        const allowed = await call(server, path, method, `Bearer ${TOKEN}`);
        expect(allowed.status, `${method} ${path}`).toBe(missing.has(path) ? 404 : 200);
      }
    }
    expect(refused).toBe(paths.length * 2 * wrong.length);
    // The public page shell carries no data of the node.
    const page = await call(server, '/', 'GET');
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('secret-node-name');
  });
});

// ---------------------------------------------------------------------------------------------

describe('JSON codec input that attempts prototype pollution', () => {
  const payloads = [
    '{"__proto__":{"polluted":1},"ok":1}',
    '{"constructor":{"prototype":{"polluted":1}},"ok":1}',
    '{"a":{"b":{"__proto__":{"polluted":1}}},"ok":1}',
    '[{"__proto__":{"polluted":1}},{"constructor":{"prototype":{"polluted":1}}}]',
    '{"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":1},"ok":1}',
    '{"prototype":{"polluted":1},"ok":1}',
    '{"__proto__":[],"ok":1}',
  ];

  it('decodes every payload without touching any prototype', () => {
    const codec = jsonCodec();
    const decoded = payloads.map((text) => codec.decode(new TextEncoder().encode(text)));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Array.prototype).not.toHaveProperty('polluted');
    const visit = (value: unknown): void => {
      if (typeof value !== 'object' || value === null) return;
      const proto = Object.getPrototypeOf(value) as unknown;
      expect(proto === Object.prototype || proto === Array.prototype).toBe(true);
      for (const key of Object.getOwnPropertyNames(value)) {
        expect(['__proto__', 'constructor', 'prototype']).not.toContain(key);
        visit((value as Record<string, unknown>)[key]);
      }
    };
    decoded.forEach(visit);
    expect(decoded).toEqual([
      { ok: 1 },
      { ok: 1 },
      { a: { b: {} }, ok: 1 },
      [{}, {}],
      { ok: 1 },
      { ok: 1 },
      { ok: 1 },
    ]);
    // And merging a decoded value into a fresh object (what applications do) pollutes nothing.
    const merged = Object.assign({}, ...decoded.filter((value) => !Array.isArray(value))) as object;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
  });
});
