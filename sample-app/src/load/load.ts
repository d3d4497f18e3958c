// A Zipf workload on every node of a running catalogue cluster (`npm start` first), with a progress
// bar, then a summary: requests/s, p50/p99 latency, cluster hit ratio, database queries per node.
//
//   npm run load -w sample-app -- --help   (the flags, below in `help`)
//
// Targets: LOAD_TARGETS=http://127.0.0.1:3001,... or the cluster file `npm start` writes.
import { existsSync, readFileSync } from 'node:fs';
import { parseCommandLine, positiveNumber } from '../cli/command-line.js';
import { CLUSTER_FILE_PATH } from './cluster-file.js';
import { ZipfSampler } from './zipf.js';

interface NodeStats {
  node: string;
  dataSource: { queries: number; productRows: number };
  cache: Record<string, { gets: number; hits: number }>;
}

const COMMAND = 'npm run load -w sample-app';
const values = parseCommandLine({
  command: COMMAND,
  help: `A Zipf workload on every node of a running catalogue cluster (\`npm start\` first), with a progress
bar, then requests/s, p50/p99 latency, the cluster hit ratio and database queries per node.

  --duration <seconds>   how long to run (default 15)
  --concurrency <n>      requests in flight (default 32)
  --products <n>         product ids drawn from 1..n (default 50000)
  --s <exponent>         Zipf exponent: higher means fewer, hotter products (default 1.1)
  --batch <share>        share of requests that read 10 products at once (default 0.05)
  -h, --help             this text

Targets: LOAD_TARGETS=http://127.0.0.1:3001,... or the cluster file \`npm start\` writes.`,
  options: {
    duration: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '32' },
    products: { type: 'string', default: '50000' },
    s: { type: 'string', default: '1.1' },
    batch: { type: 'string', default: '0.05' },
  },
});
const durationMs = positiveNumber(COMMAND, 'duration', values.duration) * 1000;
const concurrency = Math.ceil(positiveNumber(COMMAND, 'concurrency', values.concurrency));
const products = Math.ceil(positiveNumber(COMMAND, 'products', values.products));
const batchShare = values.batch === '0' ? 0 : positiveNumber(COMMAND, 'batch', values.batch);
const zipf = new ZipfSampler(products, positiveNumber(COMMAND, 's', values.s));
// Spread popular ranks over the id space (7919 is prime, so this is a permutation for most sizes).
const idOf = (rank: number): number => ((rank * 7919) % products) + 1;

function targets(): string[] {
  const fromEnv = process.env.LOAD_TARGETS;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv.split(',').map((url) => url.trim());
  if (!existsSync(CLUSTER_FILE_PATH)) {
    console.error('no cluster found: run `npm start` first (or set LOAD_TARGETS=http://host:port,...)');
    process.exit(1);
  }
  return (JSON.parse(readFileSync(CLUSTER_FILE_PATH, 'utf8')) as { nodes: { url: string }[] }).nodes.map(
    (n) => n.url,
  );
}

const urls = targets();
/** A request not answered within this is counted as an error (TimeoutError) of its node. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Each node's counters, or undefined for a node that does not answer (killed, paused, restarting). */
const snapshot = (): Promise<Array<NodeStats | undefined>> =>
  Promise.all(
    urls.map(async (url) => {
      try {
        const response = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        return response.ok ? ((await response.json()) as NodeStats) : undefined;
      } catch {
        return undefined;
      }
    }),
  );

const before = await snapshot();
if (before.every((stats) => stats === undefined)) {
  console.error(`no node answers at ${urls.join(' ')}: is the cluster running (\`npm start\`)?`);
  process.exit(1);
}
for (const [index, stats] of before.entries()) {
  if (stats === undefined) console.warn(`${urls[index]} does not answer: its requests count as errors`);
}
const latencies: number[] = [];
let errors = 0;
/** Failed requests by target and kind (an HTTP status, or the connection error's code). */
const failures = new Map<string, Map<string, number>>();
function failed(url: string, kind: string): void {
  errors += 1;
  const kinds = failures.get(url) ?? new Map<string, number>();
  kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  failures.set(url, kinds);
}
let sent = 0;
const started = performance.now();
const deadline = started + durationMs;

async function worker(index: number): Promise<void> {
  for (let turn = index; performance.now() < deadline; turn += 1) {
    const url = urls[turn % urls.length]!;
    const path =
      Math.random() < batchShare
        ? `/products?ids=${Array.from({ length: 10 }, () => idOf(zipf.next())).join(',')}`
        : `/products/${idOf(zipf.next())}`;
    const begin = performance.now();
    try {
      // A node that stops answering (paused, its host gone) must not hold a worker past the run.
      const response = await fetch(url + path, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await response.arrayBuffer();
      // Latency of answered requests only: a refused connection fails in microseconds.
      if (response.ok) latencies.push(performance.now() - begin);
      else failed(url, `HTTP ${response.status}`);
    } catch (error) {
      // fetch fails with a TypeError whose cause is the socket error (ECONNREFUSED, ECONNRESET...).
      const cause = (error as { cause?: { code?: unknown } }).cause;
      failed(url, typeof cause?.code === 'string' ? cause.code : String((error as Error).name));
    }
    sent += 1;
  }
}

const tty = process.stderr.isTTY === true;
let lastLine = 0;
const progress = setInterval(() => {
  const elapsed = performance.now() - started;
  const share = Math.min(1, elapsed / durationMs);
  const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '.');
  const line = `[${bar}] ${(share * 100).toFixed(0).padStart(3)}%  ${sent.toLocaleString('en')} requests  ${Math.round(
    sent / (elapsed / 1000),
  ).toLocaleString('en')} req/s  ${errors} errors`;
  if (tty) process.stderr.write(`\r${line}`);
  else if (elapsed - lastLine >= 5_000) {
    lastLine = elapsed;
    process.stderr.write(`${line}\n`);
  }
}, 250);

console.log(
  `Zipf load (s=${values.s}, ${products.toLocaleString('en')} products, ${concurrency} in flight, ${values.duration} s) on ${urls.join(' ')}`,
);
await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
clearInterval(progress);
if (tty) process.stderr.write('\n');
const seconds = (performance.now() - started) / 1000;
const after = await snapshot();

latencies.sort((x, y) => x - y);
const errorDetail = (): string =>
  [...failures]
    .map(
      ([url, kinds]) =>
        `\n             ${url}: ${[...kinds].map(([kind, n]) => `${n.toLocaleString('en')} ${kind}`).join(', ')}`,
    )
    .join('');
const percentile = (p: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
let gets = 0;
let hits = 0;
const rows: string[] = [];
for (const [index, node] of after.entries()) {
  const previous = before[index];
  if (node === undefined || previous === undefined) {
    const name = (node ?? previous)?.node ?? urls[index]!;
    const when = node !== undefined ? 'before' : previous !== undefined ? 'after' : 'before or after';
    rows.push(`  ${name.padEnd(8)} no counters: the node did not answer ${when} the run`);
    continue;
  }
  const products = node.cache.products ?? { gets: 0, hits: 0 };
  const old = previous.cache.products ?? { gets: 0, hits: 0 };
  gets += products.gets - old.gets;
  hits += products.hits - old.hits;
  rows.push(
    `  ${node.node.padEnd(8)} ${String(node.dataSource.queries - previous.dataSource.queries).padStart(8)} queries  ${String(
      node.dataSource.productRows - previous.dataSource.productRows,
    ).padStart(
      8,
    )} rows   hit ratio ${(((products.hits - old.hits) / Math.max(1, products.gets - old.gets)) * 100).toFixed(1)}%`,
  );
}
console.log(`
requests     ${sent.toLocaleString('en')} in ${seconds.toFixed(1)} s, ${errors.toLocaleString('en')} errors${errorDetail()}
throughput   ${Math.round(latencies.length / seconds).toLocaleString('en')} answered req/s
latency      p50 ${percentile(0.5).toFixed(2)} ms   p99 ${percentile(0.99).toFixed(2)} ms (answered requests)
hit ratio    ${((hits / Math.max(1, gets)) * 100).toFixed(1)}% of ${gets.toLocaleString('en')} cache reads (all nodes, hot copies included)
database     (each product loaded once cluster-wide, by its owner, until it expires or is written)
${rows.join('\n')}`);
// A run in which no request was answered failed, whatever the nodes' counters said.
if (latencies.length === 0) {
  console.error('no request was answered');
  process.exitCode = 1;
}
