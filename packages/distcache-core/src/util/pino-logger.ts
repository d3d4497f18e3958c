import type { LogContext, Logger } from './logger';

/** The pino log method shape the adapter calls: the context object first, then the message. */
export type PinoLogMethod = (context: LogContext, message: string) => void;

/**
 * What `pinoLogger` needs from a pino logger (pino 10, or a `child()` of one). Structural, so that
 * distcache-core does not depend on pino.
 */
export interface PinoLike {
  debug: PinoLogMethod;
  info: PinoLogMethod;
  warn: PinoLogMethod;
  error: PinoLogMethod;
}

/**
 * Adapts a pino logger to the engine's `Logger`. pino takes `(object, message)`; the engine calls
 * `(message, context)`, and pino given a string first treats what follows as printf arguments, so
 * passing pino directly would drop every context. Levels map one to one; pino's own `level`
 * decides what is written (debug lines are dropped at pino's default level, `info`).
 *
 * @example
 * import pino from 'pino';
 * const engine = new DistCacheEngine({ logger: pinoLogger(pino().child({ component: 'distcache' })) });
 */
export function pinoLogger(pino: PinoLike): Logger {
  return {
    debug: (message, context) => pino.debug(context ?? {}, message),
    info: (message, context) => pino.info(context ?? {}, message),
    warn: (message, context) => pino.warn(context ?? {}, message),
    error: (message, context) => pino.error(context ?? {}, message),
  };
}
