import { Logger as NestLogger, type LoggerService } from '@nestjs/common';
import type { LogContext, Logger } from 'distcache-core';

/**
 * The engine's `Logger` seam, written to Nest's logger (context `DistCache`), so engine messages go
 * wherever the application sends its logs (`app.useLogger()`, pino through nestjs-pino...).
 */
export class NestLoggerAdapter implements Logger {
  constructor(private readonly logger: LoggerService = new NestLogger('DistCache')) {}

  debug(message: string, context?: LogContext): void {
    this.logger.debug?.(withContext(message, context));
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
