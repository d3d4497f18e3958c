import { describe, expect, it } from 'vitest';
import { DistCacheError } from './distcache-error';
import { dataSourceFailed } from './messages';
import { failureAnswer } from './remote-error';

describe('failureAnswer', () => {
  it("keeps a DistCacheError's code and message, and describes its cause", () => {
    const cause = Object.assign(new TypeError('row 7 is locked'), { code: 'E_LOCKED', status: 423 });
    const answer = failureAnswer(new DistCacheError('E_DATASOURCE_FAILED', 'source failed', { cause }));
    expect(answer).toEqual({
      code: 'E_DATASOURCE_FAILED',
      message: 'source failed',
      detail: { name: 'TypeError', message: 'row 7 is locked', code: 'E_LOCKED', status: 423 },
      internal: false,
    });
    expect(failureAnswer(new DistCacheError('E_TIMEOUT', 'too slow'))).toEqual({
      code: 'E_TIMEOUT',
      message: 'too slow',
      internal: false,
    });
  });

  it('answers anything else as this node failing, flagged internal', () => {
    expect(failureAnswer(new RangeError('bug'))).toEqual({
      code: 'E_PEER_UNAVAILABLE',
      message: 'internal error on the peer: bug',
      internal: true,
    });
    expect(failureAnswer('plain').message).toBe('internal error on the peer: plain');
  });

  it('describes what a source threw even when reading it throws', () => {
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'message', {
      get() {
        throw new Error('message getter');
      },
    });
    const trapped = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    const noPrototype = Object.create(null) as object;
    for (const thrown of [hostile, trapped, noPrototype]) {
      const failed = dataSourceFailed('products', 'k', thrown);
      expect(failed.code).toBe('E_DATASOURCE_FAILED');
      expect(failed.message).toMatch(/^Data source of keyspace "products" failed for key "k": /);
      const answer = failureAnswer(failed);
      expect(answer.code).toBe('E_DATASOURCE_FAILED');
      expect(answer.detail?.message).toBe('');
      expect(failureAnswer(thrown).code).toBe('E_PEER_UNAVAILABLE');
    }
  });
});
