// The catalogue's answer when the cache cannot answer: 504 / 503 with a message, one log line, and
// for a write, that the database row was written. Before, Nest made each a bare 500 with ~30 lines
// of stack (an outside tester pausing an owner for 10 s).
import type { ArgumentsHost } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { DistCacheError, type DistCacheErrorCode } from 'distcache-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CacheErrorsFilter } from '../src/http/cache-errors.filter';

function answer(code: DistCacheErrorCode, method = 'GET') {
  const sent: { status?: number; body?: unknown } = {};
  const response = {
    status(status: number) {
      sent.status = status;
      return response;
    },
    json(body: unknown) {
      sent.body = body;
      return response;
    },
  };
  const host = {
    switchToHttp: () => ({ getRequest: () => ({ method, url: '/products/7' }), getResponse: () => response }),
  } as unknown as ArgumentsHost;
  new CacheErrorsFilter().catch(new DistCacheError(code, `what ${code} says`), host);
  return sent;
}

afterEach(() => vi.restoreAllMocks());

describe('CacheErrorsFilter', () => {
  it('answers a timeout 504 and a refusal 503, with one warning line each', () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    expect(answer('E_TIMEOUT')).toEqual({
      status: 504,
      body: {
        statusCode: 504,
        code: 'E_TIMEOUT',
        message: 'The cache or the database did not answer in time; retry.',
      },
    });
    expect(answer('E_DATASOURCE_TIMEOUT').status).toBe(504);
    for (const code of [
      'E_PEER_UNAVAILABLE',
      'E_CIRCUIT_OPEN',
      'E_RATE_LIMITED',
      'E_ENGINE_STOPPED',
    ] as const)
      expect(answer(code)).toMatchObject({
        status: 503,
        body: { code, message: 'The cache cannot serve this now; retry.' },
      });
    expect(warn).toHaveBeenCalledTimes(6);
    expect(warn).toHaveBeenCalledWith('GET /products/7 -> 504: E_TIMEOUT what E_TIMEOUT says');
  });

  it('tells a writer that the database write was applied', () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    expect(answer('E_PEER_UNAVAILABLE', 'PUT')).toMatchObject({
      status: 503,
      body: {
        message: expect.stringMatching(/^The database write was applied, but the cache did not confirm/),
      },
    });
  });

  it('keeps any other cache error a 500 without details, logged with its stack', () => {
    const error = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    expect(answer('E_DECODE_FAILED')).toEqual({
      status: 500,
      body: { statusCode: 500, message: 'Internal server error' },
    });
    expect(error).toHaveBeenCalledTimes(1);
  });
});
