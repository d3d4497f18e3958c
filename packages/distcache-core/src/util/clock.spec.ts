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

describe('CoarseClock, between callbacks', () => {
  it('takes a new reading in the next callback of the same loop turn (a stall may have come between)', async () => {
    let time = 1_000;
    const coarse = new CoarseClock({ ...systemClock, now: () => time });
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        seen.push(coarse.now());
        time = 3_000; // the loop stalls at the end of this callback
      });
      setImmediate(() => {
        seen.push(coarse.now());
        resolve();
      });
    });
    expect(seen).toEqual([1_000, 3_000]);
  });

  it('keeps one reading through a chain of promise jobs (an await loop of hits)', async () => {
    let time = 1_000;
    const coarse = new CoarseClock({ ...systemClock, now: () => time });
    const seen = await new Promise<number[]>((resolve) => {
      setImmediate(() => {
        void (async () => {
          await Promise.resolve();
          const readings = [coarse.now()];
          time = 2_000;
          for (let i = 0; i < 3; i++) readings.push(await Promise.resolve(coarse.now()));
          resolve(readings);
        })();
      });
    });
    expect(seen).toEqual([1_000, 1_000, 1_000, 1_000]);
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
