// Shared helpers for bench scenarios: the machine line, and Markdown tables (so a run's output can
// be pasted into bench/README.md as is). Command-line flags: cli.mjs.
import { availableParallelism, cpus, loadavg } from 'node:os';

/** The 1, 5 and 15 minute load averages, as `1.40 0.90 0.51`. */
export function loadAverage() {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
}

/** Where a run happens: Node and V8 versions, cores, CPU model and the load average now. */
export function machineDescription() {
  return (
    `node ${process.version} (V8 ${process.versions.v8}), ` +
    `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), load ${loadAverage()}`
  );
}

/** One line saying when and where a run happened, printed at the top of every scenario. */
export function machineLine() {
  return `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${machineDescription()}`;
}

/**
 * Prints rows as a Markdown table. Columns are the keys of the first row; numbers are printed as
 * given, so format them before.
 * @param {Array<Record<string, string | number>>} rows
 * @param {{ align?: Record<string, 'left' | 'right'> }} [options] columns default to right-aligned
 *   except the first
 */
export function printTable(rows, options = {}) {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? '')));
  const widths = columns.map((column, i) => Math.max(column.length, 3, ...cells.map((row) => row[i].length)));
  const alignOf = (column, i) => options.align?.[column] ?? (i === 0 ? 'left' : 'right');
  const pad = (text, i) =>
    alignOf(columns[i], i) === 'left' ? text.padEnd(widths[i]) : text.padStart(widths[i]);
  const line = (values) => `| ${values.map(pad).join(' | ')} |`;
  const rule = columns.map((column, i) =>
    alignOf(column, i) === 'left' ? `:${'-'.repeat(widths[i] - 1)}` : `${'-'.repeat(widths[i] - 1)}:`,
  );
  console.log(line(columns));
  console.log(`| ${rule.join(' | ')} |`);
  for (const row of cells) console.log(line(row));
}

/** `12345678` -> `12.35 M`, `45678` -> `45.7 k`: ops/s at a glance. */
export function formatRate(opsPerSecond) {
  if (opsPerSecond >= 1e6) return `${(opsPerSecond / 1e6).toFixed(2)} M`;
  if (opsPerSecond >= 1e3) return `${(opsPerSecond / 1e3).toFixed(1)} k`;
  return opsPerSecond.toFixed(0);
}

/** Nanoseconds per operation from ops/s, one decimal. */
export function formatNs(opsPerSecond) {
  return (1e9 / opsPerSecond).toFixed(1);
}

/** A ratio as `0.53x`, `12.4x`. */
export function formatRatio(ratio) {
  return ratio >= 10 ? `${ratio.toFixed(1)}x` : `${ratio.toFixed(2)}x`;
}
