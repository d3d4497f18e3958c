// Runs every scenario (bench/<dir>/*.bench.mjs) one after the other, each in its own process so
// that no scenario's JIT state or heap affects the next, then charts.mjs, which turns the results
// every scenario wrote (bench/results/<scenario>.json) into docs/benchmarks/*.svg and tables. Every
// scenario also runs alone: `node bench/<dir>/<file>.bench.mjs`.
//
// Run:     npm run build -w distcache-core && node bench/run-all.mjs
// Options: --check             passed to every scenario; those with goals exit 1 on a missed goal
//          --only=codec,local-hit  run only the scenarios in these folders
//          --no-charts         skip charts.mjs
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/cli.mjs';

const flags = parseFlags();
const benchDir = dirname(fileURLToPath(import.meta.url));
const only = typeof flags.only === 'string' ? new Set(flags.only.split(',')) : undefined;
const forwarded = flags.check === true ? ['--check'] : [];

const scenarios = readdirSync(benchDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !['node_modules', 'lib', 'results'].includes(entry.name))
  .filter((entry) => only === undefined || only.has(entry.name))
  .flatMap((entry) =>
    readdirSync(join(benchDir, entry.name))
      .filter((file) => file.endsWith('.bench.mjs'))
      .sort()
      .map((file) => join(benchDir, entry.name, file)),
  )
  .sort();

if (scenarios.length === 0) {
  console.error('no *.bench.mjs scenario found');
  process.exit(1);
}

const outcomes = [];
for (const file of scenarios) {
  const name = relative(benchDir, file);
  console.log(`\n=== ${name} ${'='.repeat(Math.max(0, 90 - name.length))}\n`);
  const started = performance.now();
  const { status, signal } = spawnSync(process.execPath, [file, ...forwarded], { stdio: 'inherit' });
  outcomes.push({
    scenario: name,
    seconds: ((performance.now() - started) / 1e3).toFixed(1),
    exit: signal ?? String(status),
  });
}

if (flags['no-charts'] !== true) {
  console.log(`\n=== charts.mjs ${'='.repeat(78)}\n`);
  const started = performance.now();
  const { status, signal } = spawnSync(process.execPath, [join(benchDir, 'charts.mjs')], {
    stdio: 'inherit',
  });
  outcomes.push({
    scenario: 'charts.mjs',
    seconds: ((performance.now() - started) / 1e3).toFixed(1),
    exit: signal ?? String(status),
  });
}

const total = outcomes.reduce((sum, { seconds }) => sum + Number(seconds), 0);
console.log('\n=== summary');
for (const { scenario, seconds, exit } of outcomes) {
  console.log(
    `${exit === '0' ? 'ok  ' : 'FAIL'} ${scenario} (${seconds} s${exit === '0' ? '' : `, exit ${exit}`})`,
  );
}
console.log(`total ${total.toFixed(1)} s`);
if (outcomes.some(({ exit }) => exit !== '0')) process.exitCode = 1;
