import { describe, expect, it } from 'vitest';
import { abortable } from './abort';
import { recordUnhandledRejections } from '../../test/support/unhandled';

const unhandled = recordUnhandledRejections();

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
