// Where each variant's main-thread CPU goes, per request, from a system-wide `perf` recording of an
// e2e-http run: every on-CPU sample of an instance's main thread is charged to the package of the
// nearest JavaScript frame on its stack (so V8's runtime and builtins, inline caches included, count
// for the code that called them), or to "GC" when a collection is on the stack, or to the kernel /
// native code when no JavaScript frame is. A `node --cpu-prof` profile cannot answer this on a busy
// 2-core machine: it samples wall-clock time, and an instance waiting for a core looks busy in it.
//
// Linux and perf only; each instance must write a perf map (NODE_OPTIONS below). The shares are
// turned into µs per request with each variant's main-thread CPU per request, from the bench's
// "Where the app CPU goes" table of the same run (--per-request). Recipe (bench/README.md, "End-to-end
// HTTP"):
//
//   NODE_OPTIONS=--perf-basic-prof-only-functions node bench/e2e-http/e2e-http.bench.mjs \
//     --variants=distcache,distcache-standalone,cache-manager,local-map --rounds=1 --no-results &
//   # once the 12 instances run (ps shows each one's JSON configuration with its variant):
//   ps -eo pid,args | grep e2e-http/app/dist/main.js | grep -v grep \
//     | sed -E 's/^ *([0-9]+).*"variant":"([a-z-]+)".*/\1 \2/' > /tmp/e2e-pids.txt
//   perf record -F 499 -a -g -o /tmp/e2e.perf -- sleep 75
//   perf script -i /tmp/e2e.perf -F tid,ip,sym,dso > /tmp/e2e.perf.txt
//   node bench/e2e-http/perf-attribution.mjs --pids=/tmp/e2e-pids.txt --samples=/tmp/e2e.perf.txt \
//     --per-request='{"distcache":192,"distcache-standalone":162,"cache-manager":151,"local-map":123}'
//
// Options: --by=package (default) or --by=function (distcache-core's functions one by one)
//          --top=N rows (default 30)
import { readFileSync } from 'node:fs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';

const flags = parseFlags();
if (typeof flags.pids !== 'string' || typeof flags.samples !== 'string') {
  console.error(
    'perf-attribution: --pids=<file of "pid variant" lines> and --samples=<perf script output> are needed (--help: the recipe)',
  );
  process.exit(2);
}
const variantOfThread = new Map(
  readFileSync(flags.pids, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/)),
);
const perRequest = typeof flags['per-request'] === 'string' ? JSON.parse(flags['per-request']) : {};
const byFunction = flags.by === 'function';
const top = numberFlag(flags, 'top', 30);

const EXPRESS =
  /node_modules\/(express|router|body-parser|finalhandler|on-finished|parseurl|content-type|type-is|etag|send|fresh|raw-body|debug|depd|encodeurl|qs|accepts|negotiator|mime|mime-types|mime-db|statuses|vary|cookie|iconv-lite|path-to-regexp|http-errors|media-typer|ee-first|destroy|ms|proxy-addr|forwarded|safe-buffer|content-disposition|merge-descriptors|escape-html|range-parser|serve-static|unpipe|bytes)\//;
const CACHE_LIBRARY =
  /node_modules\/(keyv|@keyv|cache-manager|@nestjs\/cache-manager|@cacheable|cacheable|ioredis|@redis|redis|lru-cache|bentocache)\//;
const GC =
  /Heap::CollectGarbage|Heap::PerformGarbageCollection|ScavengerCollector|MarkCompactCollector|IncrementalMarking::Step|ConcurrentMarking|Sweeper/;

/** The package (or Node subsystem) of a JavaScript frame's symbol, "JS:*name file:line:col". */
function packageOf(symbol) {
  const where = symbol.replace(/file:\/\//, '');
  if (where.includes('distcache-core/dist'))
    return byFunction ? `distcache-core ${symbol.split(' ')[0].replace(/^JS:[*^~]?/, '')}` : 'distcache-core';
  if (where.includes('nestjs-distcache/dist')) return 'nestjs-distcache';
  const library = CACHE_LIBRARY.exec(where);
  if (library !== null) return `cache library: ${library[1]}`;
  if (where.includes('node_modules/@nestjs/')) return 'Nest';
  if (EXPRESS.test(where)) return 'express and its dependencies';
  if (where.includes('node_modules/rxjs')) return 'rxjs';
  if (/node:(internal\/)?async_hooks/.test(where)) return 'async_hooks (AsyncLocalStorage)';
  if (/node:(_http|internal\/http)/.test(where)) return 'Node http';
  if (/node:(net|stream|internal\/streams|internal\/stream_base)/.test(where)) return 'Node net and streams';
  if (/ node:internal\/(deps\/cjs-module-lexer|modules)/.test(where)) return 'module loading (start-up)';
  if (where.includes(' node:')) return 'Node, other';
  if (where.includes('e2e-http/app') || where.includes('bench/lib')) return 'the bench app';
  if (where.includes('node_modules/')) return `npm: ${where.split('node_modules/')[1].split('/')[0]}`;
  return 'JavaScript, unknown';
}

const counts = new Map(); // variant -> Map(category -> samples)
const totals = new Map();
for (const sample of readFileSync(flags.samples, 'utf8').split('\n\n')) {
  const lines = sample.split('\n').filter((line) => line.trim() !== '');
  if (lines.length < 2) continue;
  const variant = variantOfThread.get(lines[0].trim().split(/\s+/)[0]); // main thread: tid == pid
  if (variant === undefined) continue;
  const frames = lines.slice(1).map((line) => {
    const match = /^\s*[0-9a-f]+\s+(.*) \(([^)]*)\)\s*$/.exec(line);
    return match === null ? { symbol: line.trim(), object: '' } : { symbol: match[1], object: match[2] };
  });
  let category;
  if (frames.some((frame) => GC.test(frame.symbol))) category = 'GC (pauses on the main thread)';
  else {
    const js = frames.find((frame) => frame.symbol.startsWith('JS:'));
    if (js !== undefined) category = packageOf(js.symbol);
    else
      category = frames[0].object.includes('kernel')
        ? 'kernel, no JavaScript frame'
        : 'native, no JavaScript frame';
  }
  const ofVariant = counts.get(variant) ?? new Map();
  counts.set(variant, ofVariant.set(category, (ofVariant.get(category) ?? 0) + 1));
  totals.set(variant, (totals.get(variant) ?? 0) + 1);
}

const variants = [...counts.keys()].sort();
const unit = variants.every((v) => Number.isFinite(perRequest[v]))
  ? 'µs per request'
  : '% of main-thread samples';
const value = (variant, category) =>
  ((counts.get(variant).get(category) ?? 0) / totals.get(variant)) * (perRequest[variant] ?? 100);
const categories = [...new Set(variants.flatMap((v) => [...counts.get(v).keys()]))];
categories.sort(
  (a, b) => Math.max(...variants.map((v) => value(v, b))) - Math.max(...variants.map((v) => value(v, a))),
);
console.log(`main-thread samples: ${variants.map((v) => `${v} ${totals.get(v)}`).join(', ')}`);
console.log(`\n| ${unit} | ${variants.join(' | ')} |`);
console.log(`| :-- | ${variants.map(() => '--:').join(' | ')} |`);
for (const category of categories.slice(0, top))
  console.log(`| ${category} | ${variants.map((v) => value(v, category).toFixed(1)).join(' | ')} |`);
