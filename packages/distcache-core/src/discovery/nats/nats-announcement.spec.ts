import { describe, expect, it } from 'vitest';
import { decodeAnnouncement, encodeAnnouncement } from './nats-announcement';

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('NATS announcement format', () => {
  it('round-trips, with and without a node name', () => {
    const text = encodeAnnouncement({ host: '10.0.0.1', port: 3320, nodeName: 'a' }, 'up');
    expect(JSON.parse(text)).toEqual({ v: 1, nodeName: 'a', host: '10.0.0.1', port: 3320, state: 'up' });
    expect(decodeAnnouncement(new TextEncoder().encode(text))).toEqual(JSON.parse(text));
    expect(decodeAnnouncement(bytes({ v: 1, host: '::1', port: 1, state: 'leaving' }))).toEqual({
      v: 1,
      host: '::1',
      port: 1,
      state: 'leaving',
    });
  });

  it('ignores unknown fields', () => {
    expect(decodeAnnouncement(bytes({ v: 1, host: 'h', port: 2, state: 'up', zone: 'eu' }))).toEqual({
      v: 1,
      host: 'h',
      port: 2,
      state: 'up',
    });
  });

  it.each([
    ['not JSON', new TextEncoder().encode('{nope')],
    ['an array', bytes([1])],
    ['another version', bytes({ v: 2, host: 'h', port: 2, state: 'up' })],
    ['no version', bytes({ host: 'h', port: 2, state: 'up' })],
    ['an empty host', bytes({ v: 1, host: '', port: 2, state: 'up' })],
    ['port 0', bytes({ v: 1, host: 'h', port: 0, state: 'up' })],
    ['port 70000', bytes({ v: 1, host: 'h', port: 70_000, state: 'up' })],
    ['a fractional port', bytes({ v: 1, host: 'h', port: 2.5, state: 'up' })],
    ['an unknown state', bytes({ v: 1, host: 'h', port: 2, state: 'gone' })],
    ['a numeric node name', bytes({ v: 1, host: 'h', port: 2, state: 'up', nodeName: 7 })],
    ['empty bytes', new Uint8Array()],
  ])('rejects %s', (_what, data) => {
    expect(decodeAnnouncement(data)).toBeUndefined();
  });
});
