import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import { ManualClock } from '../testing/manual-clock';
import { resolveRateLimit } from './protection.options';
import { TokenBucket } from './token-bucket';

const bucket = (perSecond: number, burst?: number, maxWait?: number) => {
  const clock = new ManualClock();
  return {
    clock,
    bucket: new TokenBucket(resolveRateLimit({ perSecond, burst, maxWait }, 'rateLimit')!, clock, 'test'),
  };
};

async function takes(limiter: TokenBucket, count: number): Promise<number> {
  let admitted = 0;
  for (let index = 0; index < count; index += 1) {
    try {
      await limiter.take();
      admitted += 1;
    } catch (error) {
      expect(isDistCacheError(error, 'E_RATE_LIMITED')).toBe(true);
    }
  }
  return admitted;
}

describe('TokenBucket', () => {
  it("ends a wait for a token with the lifetime's reason when it aborts, and drops its timer", async () => {
    const { clock, bucket: limiter } = bucket(1, 1, 10_000);
    const lifetime = new AbortController();
    await limiter.take(lifetime.signal);
    const waiting = limiter.take(lifetime.signal);
    expect(clock.pendingTimers).toBe(1);
    const stopped = new Error('stopping');
    lifetime.abort(stopped);
    await expect(waiting).rejects.toBe(stopped);
    expect(clock.pendingTimers).toBe(0);
    await expect(limiter.take(lifetime.signal)).rejects.toBe(stopped);
  });

  it('admits a burst, then refills at the rate', async () => {
    const { clock, bucket: limiter } = bucket(10, 5);
    expect(await takes(limiter, 8)).toBe(5);
    await clock.advance(100);
    expect(await takes(limiter, 3)).toBe(1);
    await clock.advance(1_000);
    expect(await takes(limiter, 20)).toBe(5); // capped at the burst, not 10
  });

  it('admits at most rate x seconds (+ burst) over a longer period', async () => {
    const { clock, bucket: limiter } = bucket(50, 10);
    let admitted = 0;
    for (let ms = 0; ms < 3_000; ms += 10) {
      admitted += await takes(limiter, 3);
      await clock.advance(10);
    }
    expect(admitted).toBeLessThanOrEqual(50 * 3 + 10);
    expect(admitted).toBeGreaterThanOrEqual(50 * 3 - 1);
  });

  it('waits up to maxWait for a token, queueing waiters behind each other', async () => {
    const { clock, bucket: limiter } = bucket(10, 1, 250);
    await limiter.take();
    const order: number[] = [];
    const waiters = [1, 2].map((n) => limiter.take().then(() => order.push(n)));
    await clock.advance(99);
    expect(order).toEqual([]);
    await clock.advance(1);
    expect(order).toEqual([1]);
    await clock.advance(100);
    await Promise.all(waiters);
    expect(order).toEqual([1, 2]);
    // The bucket is empty: the next two wait 100 and 200 ms; a third would need 300 ms, over
    // maxWait, and is refused at once.
    const next = [limiter.take(), limiter.take()];
    const refused = await limiter.take().catch((error: unknown) => error);
    expect(isDistCacheError(refused, 'E_RATE_LIMITED')).toBe(true);
    await clock.advance(200);
    await Promise.all(next);
  });

  it.each([
    [{ perSecond: 0 }, 'rateLimit.perSecond'],
    [{ perSecond: -1 }, 'rateLimit.perSecond'],
    [{ perSecond: Number.NaN }, 'rateLimit.perSecond'],
    [{ perSecond: 5, burst: 0 }, 'rateLimit.burst'],
    [{ perSecond: 5, burst: 1.5 }, 'rateLimit.burst'],
    [{ perSecond: 5, maxWait: '-1s' }, 'rateLimit.maxWait'],
  ])('rejects %j naming %s', (options, path) => {
    let error: unknown;
    try {
      resolveRateLimit(options as never, 'rateLimit');
    } catch (caught) {
      error = caught;
    }
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain(path);
  });
});
