// The sample app's scripts share one command-line contract: `--help` (or `-h`) prints the usage
// and exits 0; an unknown or malformed flag prints one line naming it and exits 2, instead of the
// stack trace node:util's parseArgs throws.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'];

export interface CommandLine<O extends Options> {
  /** How the user runs the script, for messages: `npm run load -w sample-app`. */
  readonly command: string;
  /** What `--help` prints under the usage line: what the script does, its flags and variables. */
  readonly help: string;
  readonly options: O;
  readonly argv?: string[];
}

/** Parses the script's flags; on `--help` or a bad flag it prints and exits instead of returning. */
export function parseCommandLine<O extends Options>(spec: CommandLine<O>): Values<O> {
  const options: Options = { ...spec.options, help: { type: 'boolean', short: 'h' } };
  try {
    const { values } = parseArgs({ args: spec.argv ?? process.argv.slice(2), options, strict: true });
    if (values.help === true) {
      console.log(
        `usage: ${spec.command}${Object.keys(spec.options).length > 0 ? ' -- [options]' : ''}\n\n${spec.help}`,
      );
      process.exit(0);
    }
    return values as Values<O>;
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    return usageError(spec.command, error.message.split('\n')[0] ?? error.message);
  }
}

/** A flag's value as a positive number, or one line naming the flag and exit 2. */
export function positiveNumber(command: string, flag: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value <= 0)
    return usageError(command, `--${flag} must be a positive number, got '${raw}'`);
  return value;
}

function usageError(command: string, problem: string): never {
  // parseArgs's own messages end with a period already ("... is ambiguous.").
  console.error(`${command}: ${problem.replace(/\.+$/, '')}. \`${command} -- --help\` shows the usage.`);
  process.exit(2);
}

function isParseArgsError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS_');
}
