import { describe, expect, it } from 'vitest';
import { type Clock, systemClock } from '../util/clock';
import { SourceCall } from './source-call';
import { recordUnhandledRejections } from '../../test/support/unhandled';

const unhandled = recordUnhandledRejections();

const late = (): Error => new Error('late');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const never = (): Promise<never> => new Promise<never>(() => undefined);

describe('SourceCall', () => {
  it('settles as the work does while the call has not ended', async () => {
    const call = new SourceCall('ks', undefined, 1_000, systemClock, late);
    await expect(call.run(() => Promise.resolve(7))).resolves.toBe(7);
    const failure = new Error('the source failed');
    await expect(call.run(() => Promise.reject(failure))).rejects.toBe(failure);
    call.dispose();
    expect(call.ended).toBe(false);
  });

  it('rejects at its timeout though the work never settles, and hands out an aborted signal after', async () => {
    const call = new SourceCall('ks', undefined, 20, systemClock, late);
    const bounded = call.run(never);
    await expect(bounded).rejects.toThrow('late');
    expect(call.ended).toBe(true);
    // Read only now: the signal is made aborted, with the reason the call ended with.
    expect(call.signal.aborted).toBe(true);
    expect((call.signal.reason as Error).message).toBe('late');
  });

  it('aborts a signal the source read before the call ended', async () => {
    const call = new SourceCall('ks', undefined, 20, systemClock, late);
    const { signal } = call;
    expect(signal.aborted).toBe(false);
    await expect(call.run(never)).rejects.toThrow('late');
    expect(signal.aborted).toBe(true);
    expect(call.signal).toBe(signal);
  });

  it('never ends once disposed, at its timeout or when the engine stops', async () => {
    const lifetime = new AbortController();
    const timed = new SourceCall('ks', undefined, 20, systemClock, late);
    const disposed = new SourceCall('ks', lifetime.signal, 20, systemClock, late);
    const signal = disposed.signal;
    await sleep(10);
    disposed.dispose();
    lifetime.abort(new Error('stop'));
    await sleep(40);
    expect(timed.signal.aborted).toBe(true);
    expect(disposed.ended).toBe(false);
    expect(signal.aborted).toBe(false);
  });

  it('builds no timeout error for a deadline whose last step runs after dispose', async () => {
    // The deadline fires in two steps (a timer, then an immediate); dispose may come in between.
    let fire: (() => void) | undefined;
    const clock: Clock = {
      now: () => 0,
      setTimeout: (callback) => {
        fire = callback;
        return 1;
      },
      clearTimeout: () => undefined,
    };
    let built = 0;
    const call = new SourceCall('ks', undefined, 20, clock, () => {
      built += 1;
      return late();
    });
    fire?.();
    call.dispose();
    await sleep(5);
    expect(built).toBe(0);
    expect(call.ended).toBe(false);
  });

  it('ends with the reason of the engine stopping, for calls still in use only', async () => {
    const lifetime = new AbortController();
    const calls = Array.from(
      { length: 3 },
      () => new SourceCall('ks', lifetime.signal, undefined, systemClock, late),
    );
    const bounded = calls.map((call) => call.run(never));
    calls[1]!.dispose();
    const reason = new Error('stop');
    lifetime.abort(reason);
    await expect(bounded[0]).rejects.toBe(reason);
    await expect(bounded[2]).rejects.toBe(reason);
    expect(calls.map((call) => call.ended)).toEqual([true, false, true]);
    // A call made after the engine stopped has ended already.
    const after = new SourceCall('ks', lifetime.signal, 1_000, systemClock, late);
    expect(after.signal.aborted).toBe(true);
    await expect(after.run(() => Promise.resolve(1))).rejects.toBe(reason);
  });

  it('with the call ended already, does not start the work, and leaves no unhandled rejection', async () => {
    const lifetime = new AbortController();
    lifetime.abort(new Error('stop'));
    const call = new SourceCall('ks', lifetime.signal, undefined, systemClock, late);
    const failsLater = (): Promise<never> =>
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('failed')), 5));
    await expect(call.run(failsLater)).rejects.toThrow('stop');
    await sleep(30);
    expect(unhandled).toEqual([]);
  });

  it('hands the source a context that survives a spread and a log, and shows nothing else', async () => {
    const call = new SourceCall('ks', undefined, 20, systemClock, late);
    const spread = { ...call.context, tx: 1 };
    expect(Object.keys(call.context).sort()).toEqual(['keySpace', 'signal']);
    expect(spread.keySpace).toBe('ks');
    expect(spread.signal).toBe(call.signal);
    expect(JSON.parse(JSON.stringify(call.context))).toEqual({ signal: {}, keySpace: 'ks' });
    await expect(call.run(never)).rejects.toThrow('late');
    expect(spread.signal.aborted).toBe(true);
  });

  it('registers one listener on the engine signal however many calls are in flight', () => {
    // EventTarget.addEventListener walks the listeners already there: one per load in flight on
    // the engine's lifetime signal made a cold getMany of 20,000 keys O(n^2) (2.5 s of 4.1 s).
    const lifetime = new AbortController();
    let added = 0;
    const add = lifetime.signal.addEventListener.bind(lifetime.signal);
    lifetime.signal.addEventListener = (...args: Parameters<typeof add>) => {
      added += 1;
      add(...args);
    };
    const calls = Array.from(
      { length: 1_000 },
      () => new SourceCall('ks', lifetime.signal, undefined, systemClock, late),
    );
    expect(added).toBe(1);
    for (const call of calls) call.dispose();
  });
});
