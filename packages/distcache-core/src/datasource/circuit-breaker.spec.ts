// opossum keeps its own timers (global setTimeout/setInterval and Date), so these tests drive
// time with Vitest's fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DistCacheError, isDistCacheError } from '../errors/distcache-error';
import { type BreakerState, SourceBreaker } from './circuit-breaker';
import { resolveBreakerOptions } from './protection.options';

let breaker: SourceBreaker | undefined;
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  breaker?.shutdown();
  breaker = undefined;
  vi.useRealTimers();
});

function make(states: BreakerState[] = []) {
  const options = resolveBreakerOptions(
    { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeout: '5s' },
    'cb',
  )!;
  breaker = new SourceBreaker(options, 'products', (state) => states.push(state));
  return breaker;
}
const fail = () => Promise.reject(new Error('db down'));
const ok = () => Promise.resolve('row');

describe('SourceBreaker', () => {
  it('opens after failures pass the threshold, then fails at once without calling the source', async () => {
    const states: BreakerState[] = [];
    const guarded = make(states);
    for (let index = 0; index < 4; index += 1) await guarded.run(fail).catch(() => undefined);
    expect(guarded.state).toBe('open');
    expect(states).toEqual(['open']);
    const source = vi.fn(ok);
    const error = await guarded.run(source).catch((e: unknown) => e);
    expect(isDistCacheError(error, 'E_CIRCUIT_OPEN')).toBe(true);
    expect((error as Error).message).toMatch(/next probe in about \d+ms/);
    expect(source).not.toHaveBeenCalled();
  });

  it('lets one probe through after resetTimeout and closes when it succeeds', async () => {
    const states: BreakerState[] = [];
    const guarded = make(states);
    for (let index = 0; index < 4; index += 1) await guarded.run(fail).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(guarded.state).toBe('half-open');
    expect(await guarded.run(ok)).toBe('row');
    expect(guarded.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('reopens when the half-open probe fails', async () => {
    const guarded = make();
    for (let index = 0; index < 4; index += 1) await guarded.run(fail).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(5_000);
    await guarded.run(fail).catch(() => undefined);
    expect(guarded.state).toBe('open');
  });

  it('does not count "not found", aborts or rate-limit rejections as failures', async () => {
    const guarded = make();
    for (let index = 0; index < 10; index += 1) {
      expect(await guarded.run(() => Promise.resolve(undefined))).toBeUndefined();
      await guarded
        .run(() => Promise.reject(new DistCacheError('E_ABORTED', 'caller left')))
        .catch(() => undefined);
      await guarded
        .run(() => Promise.reject(new DistCacheError('E_RATE_LIMITED', 'limited')))
        .catch(() => undefined);
      await guarded
        .run(() => Promise.reject(new DistCacheError('E_ENGINE_STOPPED', 'stopping')))
        .catch(() => undefined);
    }
    expect(guarded.state).toBe('closed');
  });

  it('counts data-source timeouts as failures', async () => {
    const guarded = make();
    for (let index = 0; index < 4; index += 1) {
      await guarded
        .run(() => Promise.reject(new DistCacheError('E_DATASOURCE_TIMEOUT', 'slow')))
        .catch(() => undefined);
    }
    expect(guarded.state).toBe('open');
  });

  it.each([
    [{ errorThresholdPercentage: 0 }, 'cb.errorThresholdPercentage'],
    [{ errorThresholdPercentage: 101 }, 'cb.errorThresholdPercentage'],
    [{ volumeThreshold: -1 }, 'cb.volumeThreshold'],
    [{ resetTimeout: 0 }, 'cb.resetTimeout'],
    [{ rollingWindow: 'soon' }, 'cb.rollingWindow'],
  ])('rejects %j naming %s', (options, path) => {
    let error: unknown;
    try {
      resolveBreakerOptions(options as never, 'cb');
    } catch (caught) {
      error = caught;
    }
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain(path);
  });
});
