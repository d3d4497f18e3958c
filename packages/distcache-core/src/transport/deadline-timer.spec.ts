import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing';
import { DeadlineTimer } from './deadline-timer';

function setup(): { clock: ManualClock; timer: DeadlineTimer; deadlines: number[]; fired: number[] } {
  const clock = new ManualClock(0);
  const deadlines: number[] = [];
  const fired: number[] = [];
  const timer = new DeadlineTimer(clock, (now) => {
    fired.push(now);
    const left = deadlines.filter((deadline) => deadline > now);
    deadlines.splice(0, deadlines.length, ...left);
    return left.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...left);
  });
  return { clock, timer, deadlines, fired };
}

describe('DeadlineTimer', () => {
  it('uses one timer for increasing deadlines and fires at each one exactly', async () => {
    const { clock, timer, deadlines, fired } = setup();
    for (const deadline of [100, 150, 300]) {
      deadlines.push(deadline);
      timer.schedule(deadline);
    }
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([100]);
    await clock.advance(50);
    expect(fired).toEqual([100, 150]);
    await clock.advance(150);
    expect(fired).toEqual([100, 150, 300]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('re-arms for an earlier deadline', async () => {
    const { clock, timer, deadlines, fired } = setup();
    deadlines.push(500);
    timer.schedule(500);
    deadlines.push(20);
    timer.schedule(20);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(20);
    expect(fired).toEqual([20]);
    await clock.advance(480);
    expect(fired).toEqual([20, 500]);
  });

  it('stops on cancel()', async () => {
    const { clock, timer, fired } = setup();
    timer.schedule(10);
    timer.cancel();
    await clock.advance(100);
    expect(fired).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});
