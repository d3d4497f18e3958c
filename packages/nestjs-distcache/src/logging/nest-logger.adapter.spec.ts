import { ConsoleLogger, Logger, type LoggerService } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { NestLoggerAdapter } from './nest-logger.adapter';

function recording(): { lines: string[]; nest: LoggerService } {
  const lines: string[] = [];
  return {
    lines,
    nest: {
      log: (message: string) => lines.push(`log ${message}`),
      warn: (message: string) => lines.push(`warn ${message}`),
      error: (message: string) => lines.push(`error ${message}`),
      debug: (message: string) => lines.push(`debug ${message}`),
    },
  };
}

describe('NestLoggerAdapter', () => {
  afterEach(() => Logger.overrideLogger(new ConsoleLogger()));

  it('maps the engine levels to Nest levels and prints the context, errors by message', () => {
    const { lines, nest } = recording();
    const logger = new NestLoggerAdapter(nest, { debug: true });
    logger.info('joined', { peer: '10.0.0.2:3320' });
    logger.warn('peer failed', { cause: new Error('ECONNREFUSED') });
    logger.error('bare');
    logger.debug('empty context', {});
    expect(lines).toEqual([
      'log joined {"peer":"10.0.0.2:3320"}',
      'warn peer failed {"cause":"Error: ECONNREFUSED"}',
      'error bare',
      'debug empty context',
    ]);
  });

  it('drops debug lines (reconnect backoff) unless asked for them', () => {
    const { lines, nest } = recording();
    const logger = new NestLoggerAdapter(nest);
    logger.debug('cannot connect to peer 10.0.0.3:3320; next attempt in 400ms', { peer: '10.0.0.3:3320' });
    logger.info('peer joined');
    expect(lines).toEqual(['log peer joined']);
  });

  it("by default writes through Nest's Logger with the context DistCache, to the app's logger", () => {
    const calls: unknown[][] = [];
    const appLogger: LoggerService = {
      log: (...args: unknown[]) => calls.push(['log', ...args]),
      warn: (...args: unknown[]) => calls.push(['warn', ...args]),
      error: (...args: unknown[]) => calls.push(['error', ...args]),
      debug: (...args: unknown[]) => calls.push(['debug', ...args]),
    };
    Logger.overrideLogger(appLogger); // what app.useLogger() does
    const logger = new NestLoggerAdapter();
    logger.info('peer joined', { members: 2 });
    logger.debug('connected to peer 10.0.0.2:3320');
    expect(calls).toEqual([['log', 'peer joined {"members":2}', 'DistCache']]);
  });
});
