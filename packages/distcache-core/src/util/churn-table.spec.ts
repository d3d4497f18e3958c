import { describe, expect, it } from 'vitest';
import { ChurnTable } from './churn-table';

describe('ChurnTable', () => {
  it('keeps, finds, counts and removes entries like a Map', () => {
    const table = new ChurnTable<string, { n: number }>();
    const one = { n: 1 };
    table.set('a', one);
    table.set('b', { n: 2 });
    table.set('a', { n: 3 });
    expect(table.size).toBe(2);
    expect(table.get('a')).toEqual({ n: 3 });
    expect(table.has('b')).toBe(true);
    expect(table.has('c')).toBe(false);
    expect(table.get('c')).toBeUndefined();
    expect(table.delete('b')).toBe(true);
    expect(table.delete('b')).toBe(false);
    expect(table.size).toBe(1);
    expect(table.values()).toEqual([{ n: 3 }]);
    expect(table.some((value) => value.n === 3)).toBe(true);
    expect(table.some((value) => value.n === 1)).toBe(false);
  });

  it('treats the names of Object.prototype members as ordinary keys', () => {
    const table = new ChurnTable<string, number>();
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(table.has(key)).toBe(false);
      expect(table.get(key)).toBeUndefined();
      table.set(key, key.length);
    }
    expect(table.size).toBe(5);
    expect(table.get('__proto__')).toBe(9);
    expect(Object.getPrototypeOf(table.values())).toBe(Array.prototype);
    expect(table.delete('__proto__')).toBe(true);
    expect(table.has('__proto__')).toBe(false);
    expect(table.size).toBe(4);
  });

  it('takes request ids as keys through a long run of new ones, a few at a time', () => {
    const table = new ChurnTable<number, number>();
    let deleted = 0;
    for (let id = 1; id <= 100_000; id++) {
      table.set(id, id);
      if (id > 16 && table.delete(id - 16)) deleted++;
    }
    expect(deleted).toBe(100_000 - 16);
    expect(table.size).toBe(16);
    expect(table.values().sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => 99_985 + i));
  });

  it('hands out a snapshot of its values, so entries can be removed while walking it', () => {
    const table = new ChurnTable<number, string>();
    for (let id = 0; id < 10; id++) table.set(id, `v${id}`);
    for (const value of table.values()) table.delete(Number(value.slice(1)));
    expect(table.size).toBe(0);
    table.set(1, 'again');
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get(1)).toBeUndefined();
  });
});
