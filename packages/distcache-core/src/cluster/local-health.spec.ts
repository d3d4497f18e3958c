import { describe, expect, it } from 'vitest';
import type { Clock } from '../util/clock';
import { LocalHealth } from './local-health';

/** A clock whose timers fire only when the test says so: a stall is time passing without a tick. */
class SteppedClock implements Clock {
  time = 1_000_000;
  private pending: (() => void) | undefined;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void): unknown {
    this.pending = callback;
    return 1;
  }
  clearTimeout(): void {
    this.pending = undefined;
  }
  /** Moves time by `ms`, then fires the sampling timer (as a loop that was busy for `ms` would). */
  tickAfter(ms: number): void {
    this.time += ms;
    const callback = this.pending;
    this.pending = undefined;
    callback?.();
  }
}

describe('LocalHealth', () => {
  it('records a stall of its own loop and subtracts only the part after a given time', () => {
    const clock = new SteppedClock();
    const health = new LocalHealth(clock, 6_000);
    health.start();
    clock.tickAfter(100); // on time
    expect(health.stalledSince(clock.time - 1_000)).toBe(0);
    const before = clock.time;
    clock.tickAfter(2_950); // the loop was blocked: the 100 ms tick came 2 850 ms late
    expect(health.stalledSince(before)).toBe(2_850);
    // Only the part of the stall after `since` counts.
    expect(health.stalledSince(clock.time - 1_000)).toBe(1_000);
    expect(health.recentLag()).toBe(2_850);
  });

  it('counts a stall still in progress (the sampling tick is overdue right now)', () => {
    const clock = new SteppedClock();
    const health = new LocalHealth(clock, 6_000);
    health.start();
    const since = clock.time;
    clock.time += 3_000; // blocked; the tick has not run yet
    expect(health.stalledSince(since)).toBe(2_900);
    expect(health.recentLag()).toBe(2_900);
  });

  it('counts only the part of a stall in progress after `since`', () => {
    const clock = new SteppedClock();
    const health = new LocalHealth(clock, 6_000);
    health.start();
    clock.tickAfter(100);
    clock.time += 2_000; // stalled; the tick is overdue by 1,900 ms
    expect(health.stalledSince(clock.time - 5_000)).toBe(1_900);
    // Checked again 10 ms after a check: the stall in progress is not counted twice.
    expect(health.stalledSince(clock.time - 10)).toBe(10);
  });

  it('tells how long ago its tick last ran, before the late tick does, and reports each stall as it ends', () => {
    const clock = new SteppedClock();
    const stalls: number[] = [];
    const health = new LocalHealth(clock, 6_000, (lag) => stalls.push(lag));
    expect(health.sinceLastTick(clock.time)).toBe(0); // not started
    health.start();
    clock.tickAfter(100);
    expect(health.sinceLastTick(clock.time + 40)).toBe(40);
    // Woken from a pause: input is read before timers run, and asks first.
    clock.time += 2_000;
    expect(health.sinceLastTick(clock.time)).toBe(2_000);
    expect(stalls).toEqual([]);
    clock.tickAfter(0); // then the late tick runs
    expect(stalls).toEqual([1_900]);
    expect(health.sinceLastTick(clock.time)).toBe(0);
    clock.tickAfter(105); // noise is not a stall
    expect(stalls).toEqual([1_900]);
  });

  it('ignores scheduling noise, forgets stalls outside its window, and reports nothing once stopped', () => {
    const clock = new SteppedClock();
    const health = new LocalHealth(clock, 6_000);
    health.start();
    const since = clock.time;
    clock.tickAfter(110); // 10 ms late: noise
    expect(health.stalledSince(since)).toBe(0);
    clock.tickAfter(1_100);
    expect(health.recentLag()).toBe(1_000);
    for (let i = 0; i < 70; i++) clock.tickAfter(100); // 7 s of punctual ticks
    expect(health.recentLag()).toBe(0);
    health.stop();
    clock.time += 10_000;
    expect(health.stalledSince(since)).toBe(0);
  });
});
