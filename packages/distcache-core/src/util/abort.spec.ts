import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { abortable, linkedSignal } from './abort';
import { systemClock } from './clock';

/** Rejections nobody handled while a test ran (Node ends the process on one by default). */
const unhandled: unknown[] = [];
const record = (reason: unknown): void => {
  unhandled.push(reason);
};
process.on('unhandledRejection', record);
afterEach(() => {
  unhandled.length = 0;
});
afterAll(() => {
  process.off('unhandledRejection', record);
});

/** A promise that rejects a few milliseconds from now, as a load or a peer write does. */
function failingLater(): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error('the source failed')), 5));
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

describe('abortable', () => {
  it('with a signal aborted already, leaves no unhandled rejection when the work fails later', async () => {
    const reason = new Error('stopped');
    await expect(abortable(failingLater(), AbortSignal.abort(reason))).rejects.toBe(reason);
    await settle();
    expect(unhandled).toEqual([]);
  });
});

describe('linkedSignal', () => {
  it('forwards a parent abort to each linked signal still in use, not to disposed ones', () => {
    const parent = new AbortController();
    const links = Array.from({ length: 3 }, () =>
      linkedSignal([parent.signal], undefined, systemClock, () => 0),
    );
    links[1]!.dispose();
    parent.abort(new Error('stop'));
    expect(links.map((link) => link.signal.aborted)).toEqual([true, false, true]);
  });

  it('registers one listener on a parent however many signals link to it', () => {
    // EventTarget.addEventListener walks the listeners already there: one per load in flight on
    // the engine's lifetime signal made a cold getMany of 20,000 keys O(n^2) (2.5 s of 4.1 s).
    const parent = new AbortController();
    let added = 0;
    const add = parent.signal.addEventListener.bind(parent.signal);
    parent.signal.addEventListener = (...args: Parameters<typeof add>) => {
      added += 1;
      add(...args);
    };
    const links = Array.from({ length: 1_000 }, () =>
      linkedSignal([parent.signal], undefined, systemClock, () => 0),
    );
    expect(added).toBe(1);
    for (const link of links) link.dispose();
  });
});
