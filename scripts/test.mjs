#!/usr/bin/env node
// The README's test command. Runs every project's test target through Nx, then sums the JSON
// reports that each Vitest run writes to <project>/reports/vitest.json and prints one closing
// line: "N passed, N failed, N skipped". Exits non-zero when any suite failed or did not report.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const projects = JSON.parse(
  spawnSync('npx', ['nx', 'show', 'projects', '--with-target', 'test', '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  }).stdout,
);
const reportOf = (name) => {
  const info = JSON.parse(
    spawnSync('npx', ['nx', 'show', 'project', name, '--json'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false' },
    }).stdout,
  );
  return join(root, info.root, 'reports', 'vitest.json');
};
const reports = projects.map((name) => ({ name, file: reportOf(name) }));
for (const { file } of reports) rmSync(file, { force: true });

const run = spawnSync(
  'npx',
  ['nx', 'run-many', '-t', 'test', '--skip-nx-cache', '--outputStyle=stream', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } },
);

// Each failed test (or a file that failed outside its tests) on one line, with the first line of
// its error: the Nx stream above is long, and CI may show only the output's last lines.
function failuresOf(report) {
  const lines = [];
  const firstLine = (text) =>
    (text ?? '')
      .replace(/\u001b\[[0-9;]*m/g, '')
      .trim()
      .split('\n')[0]
      .slice(0, 300);
  for (const file of report.testResults ?? []) {
    const path = file.name ? file.name.slice(root.length + 1) : '?';
    const failedTests = (file.assertionResults ?? []).filter((test) => test.status === 'failed');
    for (const test of failedTests)
      lines.push(`${path} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
    if (failedTests.length === 0 && file.status === 'failed')
      lines.push(`${path}: ${firstLine(file.message)}`);
  }
  return lines;
}

let passed = 0;
let failed = 0;
let skipped = 0;
let missing = 0;
for (const { name, file } of reports) {
  if (!existsSync(file)) {
    console.error(`[test] ${name}: no report at ${file} (the suite crashed before reporting)`);
    missing += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const line of failuresOf(report)) console.error(`[test] ${name}: FAILED ${line}`);
  const p = report.numPassedTests ?? 0;
  const f =
    (report.numFailedTests ?? 0) + (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? 1 : 0);
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(`[test] ${name}: ${p} passed, ${f} failed, ${s} skipped`);
  passed += p;
  failed += f;
  skipped += s;
}
failed += missing;
const ok = run.status === 0 && failed === 0;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(ok ? 0 : 1);
