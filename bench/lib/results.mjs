// Machine-readable results: every scenario writes `bench/results/<scenario>.json`, which
// `bench/charts.mjs` turns into SVG charts and Markdown tables for docs/benchmarks.md.
//
// Shape (the e2e-http scenario writes the same one):
//   { scenario, recordedAt (ISO), command, machine, loadAtEnd?,
//     tables: [{ title, columns: [..], rows: [[..]] }],
//     charts: [{ id, title, unit, higherIsBetter, scale?: 'linear' | 'log', note?,
//                groups: [{ label, bars: [{ label, value }] }] }],
//     notes?: [..] }
// Table cells are the formatted strings the scenario printed; chart values are plain numbers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAverage, machineDescription, printTable } from './report.mjs';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(benchDir, '..');

/** Where results are written: `bench/results/`. */
export const RESULTS_DIR = join(benchDir, 'results');

/**
 * Flags every scenario accepts, named in its header or not: `--no-results` (read by `write()`
 * below) and `--check`, which run-all.mjs passes to all of them (those without goals ignore it).
 */
export const SCENARIO_FLAGS = ['no-results', 'check'];

/** The command that started this process, as typed from the repository root (node flags included). */
export function commandLine(argv = process.argv, execArgv = process.execArgv) {
  const script = relative(repoRoot, argv[1] ?? '');
  return ['node', ...execArgv, script, ...argv.slice(2)].join(' ');
}

/** A table in the results shape from rows as given to `printTable` (one object per row). */
export function tableOf(title, rows) {
  const columns = Object.keys(rows[0] ?? {});
  return { title, columns, rows: rows.map((row) => columns.map((column) => String(row[column] ?? ''))) };
}

/**
 * Checks a chart against the shape above; returns the problems found (empty when valid). Shared
 * with `charts.mjs`, which refuses to draw an invalid chart.
 */
export function chartProblems(chart) {
  const problems = [];
  if (typeof chart?.id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(chart.id))
    problems.push(`id must be kebab-case, got ${JSON.stringify(chart?.id)}`);
  if (typeof chart?.title !== 'string' || chart.title === '') problems.push('title is missing');
  if (typeof chart?.unit !== 'string') problems.push('unit must be a string');
  if (typeof chart?.higherIsBetter !== 'boolean') problems.push('higherIsBetter must be a boolean');
  if (chart?.scale !== undefined && chart.scale !== 'linear' && chart.scale !== 'log')
    problems.push(`scale must be "linear" or "log", got ${JSON.stringify(chart.scale)}`);
  if (!Array.isArray(chart?.groups) || chart.groups.length === 0) {
    problems.push('groups must be a non-empty array');
    return problems;
  }
  for (const [g, group] of chart.groups.entries()) {
    if (typeof group?.label !== 'string') problems.push(`groups[${g}].label must be a string`);
    if (!Array.isArray(group?.bars) || group.bars.length === 0) {
      problems.push(`groups[${g}].bars must be a non-empty array`);
      continue;
    }
    for (const [b, bar] of group.bars.entries()) {
      if (typeof bar?.label !== 'string' || bar.label === '')
        problems.push(`groups[${g}].bars[${b}].label is missing`);
      if (typeof bar?.value !== 'number' || !Number.isFinite(bar.value) || bar.value < 0)
        problems.push(`groups[${g}].bars[${b}].value must be a finite number >= 0`);
      else if (chart.scale === 'log' && bar.value <= 0)
        problems.push(`groups[${g}].bars[${b}].value must be > 0 on a log scale`);
    }
  }
  return problems;
}

/** Formats JSON the way the repository's Prettier would, so `npm run format:check` stays green. */
async function formatJson(text, file) {
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...options, parser: 'json', filepath: file });
  } catch {
    return text; // Prettier is a dev dependency of the workspace; without it the JSON stays plain
  }
}

/**
 * Collects what a scenario reports and writes it to `bench/results/<scenario>.json`.
 *
 * @example
 *   const results = createResults('get-many');
 *   results.table('Batches of 100 keys', rows);          // prints the Markdown table and keeps it
 *   results.chart({ id: 'throughput', title: '...', unit: 'keys/s', higherIsBetter: true, groups });
 *   await results.write();                              // bench/results/get-many.json
 */
export function createResults(scenario) {
  const startedAt = new Date();
  const machine = machineDescription();
  const tables = [];
  const charts = [];
  const notes = [];
  return {
    /** Prints `rows` as a Markdown table (see printTable) and records it under `title`. */
    table(title, rows, options) {
      printTable(rows, options);
      if (rows.length > 0) tables.push(tableOf(title, rows));
    },
    /** Records a table without printing it. */
    addTable(title, rows) {
      if (rows.length > 0) tables.push(tableOf(title, rows));
    },
    /** Records a chart; throws when it does not match the shape. */
    chart(chart) {
      const problems = chartProblems(chart);
      if (problems.length > 0) throw new Error(`chart ${chart?.id}: ${problems.join('; ')}`);
      charts.push(chart);
    },
    /** Records a line of context (method, caveat, verdict) shown under the tables. */
    note(text) {
      notes.push(text);
    },
    /**
     * Writes the JSON file and returns its path; with `--no-results` on the command line (a
     * profiling or trial run) it writes nothing, so the recorded results stay those of a real run.
     */
    async write(extra = {}) {
      const file = join(RESULTS_DIR, `${scenario}.json`);
      if (process.argv.includes('--no-results')) {
        console.log(`\nresults: not written (--no-results), ${relative(repoRoot, file)} unchanged`);
        return undefined;
      }
      mkdirSync(RESULTS_DIR, { recursive: true });
      const document = {
        scenario,
        recordedAt: startedAt.toISOString(),
        command: commandLine(),
        machine,
        loadAtEnd: loadAverage(),
        ...extra,
        tables,
        charts,
        ...(notes.length > 0 ? { notes } : {}),
      };
      writeFileSync(file, await formatJson(`${JSON.stringify(document, null, 2)}\n`, file));
      console.log(`\nresults: ${relative(repoRoot, file)}`);
      return file;
    },
  };
}
