import type { FetchContext } from 'distcache-core';
import { describe, expect, it } from 'vitest';
import { currentFetchContext, runWithFetchContext } from './fetch-context';

const contextOf = (keySpace: string): FetchContext => ({
  keySpace,
  signal: new AbortController().signal,
});
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('fetch context', () => {
  it('is visible to the load, before and after its awaits, and not outside it', async () => {
    const context = contextOf('a');
    const seen: Array<FetchContext | undefined> = [];
    const load = runWithFetchContext(context, async () => {
      seen.push(currentFetchContext());
      await tick();
      seen.push(currentFetchContext());
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(currentFetchContext());
      return 'done';
    });
    expect(currentFetchContext()).toBeUndefined();
    expect(await load).toBe('done');
    expect(seen).toEqual([context, context, context]);
    expect(currentFetchContext()).toBeUndefined();
  });

  it('keeps concurrent loads apart, also after one of them settled', async () => {
    let releaseB: () => void = () => undefined;
    const b = new Promise<void>((resolve) => (releaseB = resolve));
    const seenB: Array<string | undefined> = [];
    const loadA = runWithFetchContext(contextOf('a'), async () => {
      await tick();
      return currentFetchContext()?.keySpace;
    });
    const loadB = runWithFetchContext(contextOf('b'), async () => {
      seenB.push(currentFetchContext()?.keySpace);
      await b;
      seenB.push(currentFetchContext()?.keySpace);
      await tick();
      seenB.push(currentFetchContext()?.keySpace);
    });
    expect(await loadA).toBe('a');
    await tick();
    releaseB();
    await loadB;
    expect(seenB).toEqual(['b', 'b', 'b']);
  });

  it('is released by a load that throws, rejects or returns a plain value', async () => {
    expect(() =>
      runWithFetchContext(contextOf('a'), () => {
        throw new Error('sync');
      }),
    ).toThrow('sync');
    await expect(
      runWithFetchContext(contextOf('a'), async () => {
        await tick();
        throw new Error('async');
      }),
    ).rejects.toThrow('async');
    expect(runWithFetchContext(contextOf('a'), () => currentFetchContext()?.keySpace)).toBe('a');
    expect(currentFetchContext()).toBeUndefined();
    // A later load still sees its context once the storage was released.
    expect(
      await runWithFetchContext(contextOf('later'), async () => {
        await tick();
        return currentFetchContext()?.keySpace;
      }),
    ).toBe('later');
  });

  it('is undefined in work a load left running after it settled', async () => {
    let left: Promise<FetchContext | undefined> | undefined;
    await runWithFetchContext(contextOf('a'), async () => {
      left = new Promise((resolve) => setTimeout(resolve, 5)).then(() => currentFetchContext());
      await tick();
    });
    expect(await left).toBeUndefined();
  });
});
