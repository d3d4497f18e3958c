import type { LoggerService } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { NestLoggerAdapter } from './nest-logger.adapter';

describe('NestLoggerAdapter', () => {
  it('maps the engine levels to Nest levels and prints the context, errors by message', () => {
    const lines: string[] = [];
    const nest: LoggerService = {
      log: (message: string) => lines.push(`log ${message}`),
      warn: (message: string) => lines.push(`warn ${message}`),
      error: (message: string) => lines.push(`error ${message}`),
      debug: (message: string) => lines.push(`debug ${message}`),
    };
    const logger = new NestLoggerAdapter(nest);
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
});
