import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock';
import { CoarseClock, systemClock } from './clock';

describe('CoarseClock', () => {
  it('reads the clock once per event-loop turn and follows it after that', async () => {
    const clock = new ManualClock(1_000);
    let reads = 0;
    const counting = {
      now: () => {
        reads += 1;
        return clock.now();
      },
      setTimeout: clock.setTimeout.bind(clock),
      clearTimeout: clock.clearTimeout.bind(clock),
    };
    const coarse = new CoarseClock(counting);
    expect([coarse.now(), coarse.now(), coarse.now()]).toEqual([1_000, 1_000, 1_000]);
    expect(reads).toBe(1);
    await clock.advance(1);
    expect(coarse.now()).toBe(1_001);
    expect(reads).toBe(2);
    await clock.advance(250);
    expect(coarse.now()).toBe(1_251);
  });
});

describe('systemClock', () => {
  it('does not run a timer longer than Node allows at once (Node turns 2^31 ms and more into 1 ms)', async () => {
    let ran = false;
    const timer = systemClock.setTimeout(() => {
      ran = true;
    }, 2 ** 40);
    await new Promise((resolve) => setTimeout(resolve, 20));
    systemClock.clearTimeout(timer);
    expect(ran).toBe(false);
  });
});
