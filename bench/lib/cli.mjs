// The bench scripts' command-line contract, said once: a script's usage is its header comment (the
// `Run:` and `Options:` lines every scenario starts with), so `--help` prints that comment and the
// flags it names are the ones accepted. Anything else, or a malformed value, is refused in one
// line with exit status 2, before any measurement starts.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Parses `--name=value` and bare `--flag` arguments (bare flags become `true`), answering `--help`
 * and refusing flags the script's header does not name.
 * @param {{ also?: string[], argv?: string[], script?: string }} [options] `also`: flags every
 *   scenario takes (SCENARIO_FLAGS in lib/results.mjs)
 * @returns {Record<string, string | true>}
 */
export function parseFlags({ also = [], argv = process.argv.slice(2), script = process.argv[1] } = {}) {
  const header = headerOf(script);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(header);
    process.exit(0);
  }
  const known = new Set([...documentedFlags(header), ...also]);
  const flags = {};
  for (const arg of argv) {
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (match === null) usageError(`unexpected argument '${arg}' (flags are --name or --name=value)`, script);
    if (!known.has(match[1])) usageError(`unknown option '--${match[1]}'`, script);
    flags[match[1]] = match[2] ?? true;
  }
  return flags;
}

/** A numeric flag with a default; refuses (one line, exit 2) a value that is not a positive number. */
export function numberFlag(flags, name, fallback) {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) usageError(`--${name} must be a positive number, got '${raw}'`);
  return value;
}

function usageError(problem, script = process.argv[1]) {
  const name = relative(repoRoot, script);
  console.error(`${name}: ${problem}. \`node ${name} --help\` shows the usage.`);
  process.exit(2);
}

/** The script's leading `//` comment, without the comment markers. */
function headerOf(script) {
  const lines = [];
  for (const line of readFileSync(script, 'utf8').split('\n')) {
    if (!line.startsWith('//')) break;
    lines.push(line.replace(/^\/\/ ?/, ''));
  }
  return lines.join('\n');
}

/** `--name` tokens from the `Run:` line on, outside backticks (`node --cpu-prof` is prose). */
function documentedFlags(header) {
  const from = header.search(/^Run:/m);
  const usage = (from === -1 ? header : header.slice(from)).replace(/`[^`]*`/g, '');
  return [...usage.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((match) => match[1]);
}
