// Command line of the membership scenarios: `--name=value` flags from a fixed list, `--help`
// answered with the usage, anything else refused with one line and exit status 2.

/**
 * @param {string} usage printed for --help
 * @param {Record<string, { default: string, help: string, list?: boolean }>} flags numeric flags
 *   (a `list` flag takes comma-separated numbers)
 * @returns {Record<string, number | number[]>}
 */
export function parseCli(usage, flags, argv = process.argv.slice(2)) {
  const fail = (message) => {
    console.error(`${message} (see --help)`);
    process.exit(2);
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    const lines = Object.entries(flags).map(
      ([name, flag]) => `  --${name}=${flag.default}`.padEnd(34) + flag.help,
    );
    console.log(
      `${usage}\n\nOptions (defaults shown):\n${lines.join('\n')}\n  --help                          this text`,
    );
    process.exit(0);
  }
  const values = {};
  for (const [name, flag] of Object.entries(flags)) values[name] = flag.default;
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(.+)$/.exec(arg);
    if (match === null || !(match[1] in flags)) fail(`unknown argument "${arg}"`);
    values[match[1]] = match[2];
  }
  const parsed = {};
  for (const [name, raw] of Object.entries(values)) {
    const numbers = String(raw).split(',').map(Number);
    if (numbers.some((n) => !Number.isFinite(n) || n < 0) || (!flags[name].list && numbers.length !== 1))
      fail(
        `--${name} must be ${flags[name].list ? 'a comma-separated list of numbers' : 'a number'}, got "${raw}"`,
      );
    parsed[name] = flags[name].list ? numbers : numbers[0];
  }
  return parsed;
}
