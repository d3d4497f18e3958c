// Two variants' V8 CPU profiles side by side, per request: the self time of every package (or
// function) of one variant's instances against another's, each divided by the self time of express
// and its router in the same profiles. Every variant runs the same express code once per request,
// so that time stands for the number of requests each profile saw, and the ratio is the cost of a
// package per request in "express units" (multiply by a variant's main-thread µs per request over
// its total units for µs). This works with `--cpu-prof` on this busy 2-core VM, where a profile's
// absolute times are not CPU time (perf-attribution.mjs is the CPU-time tool; it needs perf).
//
// Recipe (bench/README.md, "End-to-end HTTP"):
//
//   node bench/e2e-http/e2e-http.bench.mjs --variants=distcache-standalone,cache-manager,local-map \
//     --rounds=1 --no-results --cpu-prof=distcache-standalone,local-map
//   node bench/e2e-http/profile-compare.mjs --a=local-map --b=distcache-standalone
//   node bench/e2e-http/profile-compare.mjs --a=local-map --b=distcache-standalone --by=function --top=60
//
// Options: --a, --b  variant names (folders of e2e-http/profiles/) or paths to folders of .cpuprofile
//          --by=package (default) or --by=function;  --top=N rows (default 40), largest difference first
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { numberFlag, parseFlags } from '../lib/cli.mjs';

const flags = parseFlags();
if (typeof flags.a !== 'string' || typeof flags.b !== 'string') {
  console.error(
    'profile-compare: --a=<variant or folder> and --b=<variant or folder> are needed (--help: the recipe)',
  );
  process.exit(2);
}
const byFunction = flags.by === 'function';
const top = numberFlag(flags, 'top', 40);
const here = new URL('.', import.meta.url).pathname;

/** The package of a profile frame: distcache's own, a node_modules package, a Node subsystem. */
function packageOf(frame) {
  const { url, functionName } = frame;
  if (url.includes('distcache-core/dist')) return 'distcache-core';
  if (url.includes('nestjs-distcache/dist')) return 'nestjs-distcache';
  const module = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (module !== null) return module[1];
  if (url.startsWith('node:')) return url;
  if (url.includes('e2e-http/app') || url.includes('bench/lib')) return 'the app';
  if (url === '') return `native ${functionName}`;
  return url;
}

const IDLE = new Set(['(idle)', '(program)']);

/** Self time (µs) per package or function over every profile in `folder`, and the express units. */
function selfTimes(folder) {
  const dir = existsSync(join(here, 'profiles', folder)) ? join(here, 'profiles', folder) : folder;
  const times = new Map();
  let express = 0;
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    profile.samples.forEach((id, index) => {
      const frame = frames.get(id);
      if (IDLE.has(frame.functionName)) return;
      const delta = profile.timeDeltas[index] ?? 0;
      const pkg = packageOf(frame);
      if (pkg === 'express' || pkg === 'router') express += delta;
      const key = byFunction ? `${pkg} ${frame.functionName || '(anonymous)'}:${frame.lineNumber + 1}` : pkg;
      times.set(key, (times.get(key) ?? 0) + delta);
    });
  }
  if (express === 0) throw new Error(`no express samples in ${dir}: not an e2e-http profile?`);
  return { times, express };
}

const a = selfTimes(flags.a);
const b = selfTimes(flags.b);
const rows = [...new Set([...a.times.keys(), ...b.times.keys()])].map((key) => ({
  key,
  a: (a.times.get(key) ?? 0) / a.express,
  b: (b.times.get(key) ?? 0) / b.express,
}));
const sum = (side) => rows.reduce((total, row) => total + row[side], 0);
rows.sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a));
console.log(`self time per request, in units of express + router self time (1.00 in each variant)`);
console.log(`total: ${flags.a} ${sum('a').toFixed(2)}, ${flags.b} ${sum('b').toFixed(2)}\n`);
console.log(`| ${byFunction ? 'function' : 'package'} | ${flags.a} | ${flags.b} | difference |`);
console.log('| :-- | --: | --: | --: |');
for (const row of rows.slice(0, top)) {
  console.log(`| ${row.key} | ${row.a.toFixed(3)} | ${row.b.toFixed(3)} | ${(row.b - row.a).toFixed(3)} |`);
}
