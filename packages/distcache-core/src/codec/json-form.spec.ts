import { describe, expect, it } from 'vitest';
import { datePaths, MAX_CACHED_CHARS, MAX_CACHED_TEXT } from './json-form';

describe('datePaths', () => {
  it('parses a text once and shares the frozen result', () => {
    const first = datePaths('[["a"],["b",0]]');
    expect(first).toEqual([['a'], ['b', 0]]);
    expect(datePaths('[["a"],["b",0]]')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first.every((path) => Object.isFrozen(path))).toBe(true);
  });

  it('keeps a text of MAX_CACHED_TEXT characters, and none longer', () => {
    const sized = (length: number): string => {
      const head = '[["';
      const tail = '"]]';
      return head + 'k'.repeat(length - head.length - tail.length) + tail;
    };
    const fits = sized(MAX_CACHED_TEXT);
    expect(fits.length).toBe(MAX_CACHED_TEXT);
    expect(datePaths(fits)).toBe(datePaths(fits));
    const over = sized(MAX_CACHED_TEXT + 1);
    expect(datePaths(over)).not.toBe(datePaths(over));
  });

  it('parses a text longer than MAX_CACHED_TEXT on every read', () => {
    const long = JSON.stringify(Array.from({ length: MAX_CACHED_TEXT }, (_, i) => ['k', i]));
    expect(long.length).toBeGreaterThan(MAX_CACHED_TEXT);
    const first = datePaths(long);
    expect(datePaths(long)).not.toBe(first);
    expect(datePaths(long)).toEqual(first);
  });

  it('starts over once the texts kept reach MAX_CACHED_CHARS, so new shapes still get in', () => {
    const early = '[["early"]]';
    const kept = datePaths(early);
    expect(datePaths(early)).toBe(kept);
    // Distinct texts (a Date under an index taken from data), more characters than the budget.
    let chars = 0;
    for (let i = 0; chars <= MAX_CACHED_CHARS; i++) {
      const text = `[["items",${i},"at"]]`;
      datePaths(text);
      chars += text.length;
    }
    expect(datePaths(early)).not.toBe(kept);
    const late = '[["late"]]';
    expect(datePaths(late)).toBe(datePaths(late));
  });

  it('refuses texts that are not lists of paths', () => {
    for (const text of ['[["a"]', '"a"', '[[{"x":1}]]', '[[],[]]', '[[1.5]]', '{}'])
      expect(() => datePaths(text), text).toThrow(TypeError);
  });
});
