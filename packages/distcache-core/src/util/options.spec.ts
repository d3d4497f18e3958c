import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import {
  closest,
  fieldPath,
  flag,
  hostPort,
  implementing,
  integer,
  numberIn,
  oneOf,
  type OptionFields,
  optionsObject,
  matching,
  stringList,
} from './options';

function failure(run: () => unknown): { path: unknown; message: string } {
  try {
    run();
  } catch (error) {
    if (!isDistCacheError(error, 'E_INVALID_OPTION')) throw error;
    return { path: error.details['path'], message: error.message };
  }
  throw new Error('expected E_INVALID_OPTION');
}

const SHAPE: OptionFields = {
  what: 'keyspace option',
  fields: ['name', 'ttl', 'maxBytes', 'popularKeys'],
  renamed: { hotKeys: 'popularKeys' },
};

describe('optionsObject', () => {
  it('returns a known object as it is', () => {
    const value = { name: 'a', ttl: '1m' };
    expect(optionsObject(value, 'keySpaces[0]', SHAPE)).toBe(value);
  });

  it('refuses what is not an object, naming the object (or "options" at the top)', () => {
    expect(failure(() => optionsObject(5, 'keySpaces[0]', SHAPE)).path).toBe('keySpaces[0]');
    expect(failure(() => optionsObject([], 'keySpaces[0]', SHAPE)).path).toBe('keySpaces[0]');
    expect(failure(() => optionsObject(null, '', SHAPE)).path).toBe('options');
  });

  it('refuses an unknown field with the closest known one', () => {
    expect(failure(() => optionsObject({ tll: '1m' }, 'keySpaces[0]', SHAPE))).toEqual({
      path: 'keySpaces[0].tll',
      message: 'Invalid option "keySpaces[0].tll": is not a known keyspace option; did you mean "ttl"?',
    });
    expect(failure(() => optionsObject({ maxbytes: 5 }, '', SHAPE)).message).toContain(
      'did you mean "maxBytes"?',
    );
  });

  it('says what a renamed field is called now', () => {
    expect(failure(() => optionsObject({ hotKeys: false }, 'keySpaces[0]', SHAPE))).toEqual({
      path: 'keySpaces[0].hotKeys',
      message:
        'Invalid option "keySpaces[0].hotKeys": is not a known keyspace option: it was renamed to "popularKeys"',
    });
  });

  it('makes no suggestion when nothing is close', () => {
    expect(failure(() => optionsObject({ colour: 'red' }, '', SHAPE)).message).toBe(
      'Invalid option "colour": is not a known keyspace option',
    );
  });
});

describe('closest', () => {
  it.each([
    ['tll', 'ttl'],
    ['ttl', 'ttl'],
    ['maxbytes', 'maxBytes'],
    ['maxByte', 'maxBytes'],
    ['nme', 'name'],
    ['x', undefined],
    ['ab', undefined],
    ['capacity', undefined],
  ])('%s -> %s', (name, expected) => {
    expect(closest(name, SHAPE.fields)).toBe(expected);
  });
});

describe('field checks', () => {
  it('join paths', () => {
    expect(fieldPath('', 'port')).toBe('port');
    expect(fieldPath('admin', 'port')).toBe('admin.port');
  });

  it('integer: in range, with the range in the message', () => {
    expect(integer(5, 'p', 1, 10)).toBe(5);
    expect(failure(() => integer(11, 'p', 1, 10)).message).toBe(
      'Invalid option "p": must be an integer from 1 to 10 (got 11)',
    );
    expect(failure(() => integer(1.5, 'p', 1)).message).toContain('must be an integer of at least 1');
    expect(failure(() => integer('3', 'p', 1)).path).toBe('p');
    expect(failure(() => integer(2 ** 60, 'p', 1)).path).toBe('p');
  });

  it('numberIn: open and closed ends', () => {
    expect(numberIn(0.5, 'p', { above: 0, below: 1 })).toBe(0.5);
    expect(numberIn(1, 'p', { from: 0, to: 1 })).toBe(1);
    expect(failure(() => numberIn(1, 'p', { above: 0, below: 1 })).message).toContain(
      'must be a number above 0 and below 1',
    );
    expect(failure(() => numberIn(NaN, 'p', { above: 0, to: 100 })).message).toContain(
      'must be a number above 0 and at most 100',
    );
    expect(failure(() => numberIn(2, 'p', { from: 0, to: 1 })).message).toContain('from 0 to 1');
  });

  it('flag, oneOf, matching, stringList, implementing', () => {
    expect(flag(undefined, 'p', true)).toBe(true);
    expect(failure(() => flag('yes', 'p', false)).message).toContain('must be true or false');
    expect(oneOf('copy', 'p', ['frozen', 'copy'])).toBe('copy');
    expect(failure(() => oneOf('x', 'p', ['a', 'b', 'c'])).message).toContain('must be "a", "b" or "c"');
    expect(failure(() => matching('bad token', 't', /^\S+$/, 'no spaces', true)).message).toBe(
      'Invalid option "t": no spaces',
    );
    expect(stringList(['a'], 'p', 'names')).toEqual(['a']);
    expect(failure(() => stringList([], 'p', 'names', false)).message).toContain(
      'a non-empty array of names',
    );
    expect(failure(() => stringList(['a', ''], 'p', 'names')).path).toBe('p');
    const clock = { now: () => 0 };
    expect(implementing(clock, 'clock', ['now'])).toBe(clock);
    expect(failure(() => implementing(clock, 'clock', ['now', 'setTimeout'])).message).toContain(
      'must implement now(), setTimeout()',
    );
    expect(failure(() => implementing(undefined, 'clock', ['now'])).path).toBe('clock');
  });

  it('hostPort: "host:port" with IPv6 in brackets', () => {
    expect(hostPort(' [::1]:3320 ', 'p')).toEqual({ host: '::1', port: 3320 });
    expect(hostPort('cache-0:1', 'p')).toEqual({ host: 'cache-0', port: 1 });
    for (const bad of ['host', 'host:0', 'host:65536', '::1:80', 42]) {
      expect(failure(() => hostPort(bad, 'discovery.peers[0]')).path).toBe('discovery.peers[0]');
    }
  });
});
