/** Structured context attached to a log line. */
export type LogContext = Record<string, unknown>;

/**
 * The logging seam, called `(message, context)`. The default is silent; pass `consoleLogger()`,
 * `pinoLogger(pino)` (pino takes `(object, message)`, so not pino itself), Nest's logger through
 * nestjs-distcache's `NestLoggerAdapter` (the Nest module does), or anything with these four methods.
 */
export interface Logger {
  debug(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  warn(message: string, context?: LogContext): void;
  error(message: string, context?: LogContext): void;
}

const noop = (): void => undefined;

/** A logger that drops everything (the default). */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** A logger that writes to the console, prefixed with `[distcache]` and optional node name. */
export function consoleLogger(options: { debug?: boolean; prefix?: string } = {}): Logger {
  const prefix = options.prefix === undefined ? '[distcache]' : `[distcache ${options.prefix}]`;
  const line = (message: string, context?: LogContext) =>
    context === undefined ? `${prefix} ${message}` : `${prefix} ${message} ${JSON.stringify(context)}`;
  return {
    debug: options.debug === true ? (m, c) => console.debug(line(m, c)) : noop,
    info: (m, c) => console.info(line(m, c)),
    warn: (m, c) => console.warn(line(m, c)),
    error: (m, c) => console.error(line(m, c)),
  };
}
