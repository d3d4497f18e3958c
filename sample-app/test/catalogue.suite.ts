// The end-to-end suite of the catalogue service: three real node processes (the built dist/),
// driven over HTTP. Run once per database (see the *.spec.ts files).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClusterOptions, type RunningCluster, startCluster } from '../src/cluster/cluster';

const LOAD = fileURLToPath(new URL('../dist/load/load.js', import.meta.url));

interface Stats {
  node: string;
  members: number;
  dataSource: { queries: number; productRows: number; writes: number };
  cache: Record<string, { hits: number; gets: number; peerLoads: number }>;
}
interface Product {
  id: number;
  name: string;
  price: number;
  updatedAt: string;
}

/** Runs the built load tool (`npm run load`) against `urls`; resolves when it exits. */
function loadTool(
  urls: readonly string[],
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [LOAD, ...args],
      { env: { ...process.env, LOAD_TARGETS: urls.join(',') }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') reject(error);
        else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as T };
}

const stats = (cluster: RunningCluster): Promise<Stats[]> =>
  Promise.all(cluster.nodes.map(async (node) => (await json<Stats>(`${node.url}/stats`)).body));
const rowsRead = (all: readonly Stats[]): number =>
  all.reduce((sum, node) => sum + node.dataSource.productRows, 0);

export function catalogueSuite(options: () => ClusterOptions): void {
  let cluster: RunningCluster;

  beforeAll(async () => {
    cluster = await startCluster({ size: 3, seedProducts: 20_000, ...options() });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('reads each product from the database once for the whole cluster', async () => {
    const before = rowsRead(await stats(cluster));
    const ids = Array.from({ length: 60 }, (_, index) => 1_001 + index * 37);
    for (const node of cluster.nodes) {
      const answers = await Promise.all(ids.map((id) => json<Product>(`${node.url}/products/${id}`)));
      for (const [index, answer] of answers.entries()) {
        expect(answer.status).toBe(200);
        expect(answer.body.id).toBe(ids[index]);
      }
    }
    // getMany on every node: misses are batched per owner, still one row read per product.
    const batch = Array.from({ length: 40 }, (_, index) => 9_001 + index * 11);
    for (const node of cluster.nodes) {
      const { status, body } = await json<{ products: Product[]; missing: number[] }>(
        `${node.url}/products?ids=${batch.join(',')}`,
      );
      expect(status).toBe(200);
      expect(body.products.map((product) => product.id)).toEqual(batch);
      expect(body.missing).toEqual([]);
    }
    const after = await stats(cluster);
    expect(rowsRead(after) - before).toBe(ids.length + batch.length);
    // Loaded by the owners: more than one node did database work.
    expect(after.filter((node) => node.dataSource.productRows > 0).length).toBeGreaterThan(1);
    expect(after.every((node) => node.members === 3)).toBe(true);
  });

  it('answers 404 for an unknown product and 400 for a bad id', async () => {
    const [a] = cluster.nodes;
    expect((await fetch(`${a!.url}/products/99999999`)).status).toBe(404);
    expect((await fetch(`${a!.url}/products/abc`)).status).toBe(400);
    // Past the integer column, a NUL in a category, a category over the cache's key limit: were 500s.
    expect((await fetch(`${a!.url}/products/99999999999999999999`)).status).toBe(400);
    expect((await fetch(`${a!.url}/categories/%00`)).status).toBe(400);
    expect((await fetch(`${a!.url}/categories/${'x'.repeat(3000)}`)).status).toBe(400);
    const put = (body: unknown) =>
      fetch(`${a!.url}/products/5`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await put({ price: -1 })).status).toBe(400);
    // A stock past the integer column, a NUL in a name, ids given twice: were 500s (found by a tester).
    expect((await put({ stock: 1_000_000_000_000 })).status).toBe(400);
    expect((await put({ name: 'a\u0000b' })).status).toBe(400);
    expect((await fetch(`${a!.url}/products?ids=1&ids=2`)).status).toBe(400);
    expect((await fetch(`${a!.url}/products?ids=1,2`)).status).toBe(200);
  });

  it('shows a PUT on one node on the other nodes at once', async () => {
    const [a, b, c] = cluster.nodes;
    const id = 4_242;
    // Warm the owner's cache and every node's hot copy first: the PUT must invalidate them.
    for (const node of cluster.nodes)
      expect((await json<Product>(`${node.url}/products/${id}`)).status).toBe(200);
    const price = 1_234.5 + Math.round(Math.random() * 1000);
    const put = await json<Product>(`${a!.url}/products/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ price, name: 'Renamed Lamp' }),
    });
    expect(put.status).toBe(200);
    expect(put.body.price).toBe(price);
    for (const node of [b!, c!, a!]) {
      const { body } = await json<Product>(`${node.url}/products/${id}`);
      expect(body).toMatchObject({ id, price, name: 'Renamed Lamp' });
    }
  });

  it('reports health through Terminus', async () => {
    const { status, body } = await json<{
      status: string;
      info: Record<string, { status: string; members?: number }>;
    }>(`${cluster.nodes[0]!.url}/health`);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info.distcache).toMatchObject({ status: 'up', members: 3 });
    expect(body.info.database?.status).toBe('up');
  });

  it('keeps answering on the other two nodes when one is killed', async () => {
    const [a, b, c] = cluster.nodes;
    c!.process.kill('SIGKILL');
    await c!.exited;
    const ids = Array.from({ length: 60 }, (_, index) => 15_001 + index * 13);
    for (const node of [a!, b!]) {
      const answers = await Promise.all(ids.map((id) => json<Product>(`${node.url}/products/${id}`)));
      expect(answers.map((answer) => answer.status)).toEqual(ids.map(() => 200));
      expect(answers.map((answer) => answer.body.id)).toEqual(ids);
    }
    const many = await json<{ products: Product[] }>(`${a!.url}/products?ids=${ids.slice(0, 20).join(',')}`);
    expect(many.status).toBe(200);
    expect(many.body.products).toHaveLength(20);

    // The load tool (`npm run load`) on all three: it counts the dead node's requests as errors of
    // that node and reports the live nodes, instead of failing on the dead node's counters.
    const run = await loadTool([a!.url, b!.url, c!.url], ['--duration', '1', '--concurrency', '4']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`${c!.url} does not answer: its requests count as errors`);
    expect(run.stdout).toMatch(new RegExp(`${c!.url}: [\\d,]+ ECONNREFUSED`));
    expect(run.stdout).toContain(`${c!.url} no counters: the node did not answer`);
    for (const name of ['node-a', 'node-b']) expect(run.stdout).toMatch(new RegExp(`${name} +\\d+ queries`));
  });
}
