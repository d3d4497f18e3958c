import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from './backoff';

const policy = { baseMs: 100, maxMs: 5000, jitter: 0 };

describe('reconnectDelayMs', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((failures) => reconnectDelayMs(failures, policy))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000,
    ]);
  });

  it('takes away up to the jitter fraction at random', () => {
    const jittered = { ...policy, jitter: 0.5 };
    expect(reconnectDelayMs(3, jittered, () => 0)).toBe(400);
    expect(reconnectDelayMs(3, jittered, () => 0.5)).toBe(300);
    expect(reconnectDelayMs(3, jittered, () => 0.999_999)).toBe(200);
  });

  it('never returns less than 1ms', () => {
    expect(reconnectDelayMs(1, { baseMs: 1, maxMs: 1, jitter: 1 }, () => 0.999)).toBe(1);
  });
});
