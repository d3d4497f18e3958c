import { Logger as NestLogger, type LoggerService } from '@nestjs/common';
import type { LogContext, Logger } from 'distcache-core';

/** Options of {@link NestLoggerAdapter}. */
export interface NestLoggerAdapterOptions {
  /**
   * Forward the engine's debug lines (each connection attempt and reconnect backoff, warm-up
   * steps...) to Nest's `debug`. Off because Nest 12 prints every level unless told otherwise, and
   * these lines repeat while a peer is down.
   * @default false
   */
  debug?: boolean;
}

/**
 * The engine's `Logger` seam, written to Nest's logger (context `DistCache`), so engine messages go
 * wherever the application sends its logs (`app.useLogger()`, pino through nestjs-pino...).
 * `info` becomes Nest's `log`; `debug` is dropped unless `{ debug: true }`.
 *
 * @example
 * DistCacheModule.forRoot({ logger: new NestLoggerAdapter(new Logger('Cache'), { debug: true }) });
 */
export class NestLoggerAdapter implements Logger {
  private readonly forwardDebug: boolean;

  constructor(
    private readonly logger: LoggerService = new NestLogger('DistCache'),
    options: NestLoggerAdapterOptions = {},
  ) {
    this.forwardDebug = options.debug === true;
  }

  debug(message: string, context?: LogContext): void {
    if (this.forwardDebug) this.logger.debug?.(withContext(message, context));
  }

  info(message: string, context?: LogContext): void {
    this.logger.log(withContext(message, context));
  }

  warn(message: string, context?: LogContext): void {
    this.logger.warn(withContext(message, context));
  }

  error(message: string, context?: LogContext): void {
    this.logger.error(withContext(message, context));
  }
}

function withContext(message: string, context: LogContext | undefined): string {
  if (context === undefined || Object.keys(context).length === 0) return message;
  // Errors serialise to {} with JSON.stringify; keep what a reader needs.
  const printable = JSON.stringify(context, (_key, value: unknown) =>
    value instanceof Error ? `${value.name}: ${value.message}` : value,
  );
  return `${message} ${printable}`;
}
