// GET_MANY with KEY_ERRORS and the extended VALUES that answers it (docs/protocol.md, section 3.4).
import { describe, expect, it } from 'vitest';
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  readFrameHeader,
} from './frame-codec';
import type { PeerResponse } from './transport';
import { FrameFlag, ResponseFlag } from './wire-format';

describe('per-key errors of GET_MANY', () => {
  it('carries KEY_ERRORS on a GET_MANY', () => {
    const frame = encodeRequestFrame(3, {
      op: 'getMany',
      keySpace: 'ks',
      keys: ['a', 'b'],
      forwarded: true,
      extendedReply: true,
      keyErrors: true,
    });
    expect(readFrameHeader(frame).flags & FrameFlag.KEY_ERRORS).toBe(FrameFlag.KEY_ERRORS);
    expect(decodeRequestFrame(frame).request).toMatchObject({ op: 'getMany', keyErrors: true });
    const plain = encodeRequestFrame(3, { op: 'getMany', keySpace: 'ks', keys: ['a'], forwarded: true });
    expect(decodeRequestFrame(plain).request).not.toHaveProperty('keyErrors');
  });

  it('round-trips a VALUES whose keys failed, detail included, and marks it EXTENDED', () => {
    const response: PeerResponse = {
      op: 'values',
      results: [
        { found: true, value: Buffer.from([1, 2]), expiresAt: 7 },
        {
          found: 'error',
          code: 'E_DATASOURCE_FAILED',
          message: 'no row',
          detail: { name: 'TypeError', message: 'x' },
        },
        { found: false, expiresAt: 0 },
        { found: 'error', code: 'E_DATASOURCE_TIMEOUT', message: 'slow' },
      ],
    };
    const frame = encodeResponseFrame(9, response, true);
    expect(readFrameHeader(frame).flags & ResponseFlag.EXTENDED).toBe(ResponseFlag.EXTENDED);
    const decoded = decodeResponseFrame(frame).response;
    expect(decoded).toEqual({
      op: 'values',
      results: [
        { found: true, value: Buffer.from([1, 2]), expiresAt: 7 },
        {
          found: 'error',
          code: 'E_DATASOURCE_FAILED',
          message: 'no row',
          detail: { name: 'TypeError', message: 'x' },
        },
        { found: false, expiresAt: 0 },
        { found: 'error', code: 'E_DATASOURCE_TIMEOUT', message: 'slow' },
      ],
    });
  });

  it('sends a VALUES without failed keys in the plain layout', () => {
    const frame = encodeResponseFrame(9, { op: 'values', results: [{ found: false, expiresAt: 0 }] }, true);
    expect(readFrameHeader(frame).flags).toBe(0);
  });
});
