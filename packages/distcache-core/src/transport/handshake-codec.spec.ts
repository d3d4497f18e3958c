import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors';
import {
  decodeHandshakeFrame,
  encodeHelloFrame,
  encodeRefuseFrame,
  encodeWelcomeFrame,
  type HandshakeHello,
  handshakeProblem,
  refuseReasonName,
} from './handshake-codec';
import { encodeRequestFrame } from './frame-codec';
import { FRAME_HEADER_BYTES, PROTOCOL_VERSION, RefuseReason } from './wire-format';

const hello: HandshakeHello = {
  maxFrameBytes: 8 * 1024 * 1024,
  cluster: 'shop',
  nodeId: 'node-a',
  address: { host: '10.0.0.7', port: 3320 },
  incarnation: '9f2c0d1e5a6b7c8d',
};

function protocolError(run: () => unknown): boolean {
  try {
    run();
    return false;
  } catch (error) {
    return isDistCacheError(error, 'E_PROTOCOL');
  }
}

describe('handshake frames', () => {
  it('round-trips HELLO and WELCOME', () => {
    expect(decodeHandshakeFrame(encodeHelloFrame(hello))).toEqual({
      kind: 'hello',
      version: PROTOCOL_VERSION,
      hello,
    });
    expect(decodeHandshakeFrame(encodeWelcomeFrame(hello))).toEqual({
      kind: 'welcome',
      version: PROTOCOL_VERSION,
      hello,
    });
  });

  it('round-trips REFUSE', () => {
    expect(decodeHandshakeFrame(encodeRefuseFrame(RefuseReason.CLUSTER, 'other cluster'))).toEqual({
      kind: 'refuse',
      refusal: { version: PROTOCOL_VERSION, reason: RefuseReason.CLUSTER, message: 'other cluster' },
    });
  });

  it('starts with the frozen magic and version', () => {
    const frame = encodeHelloFrame(hello);
    expect(frame.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + 4).toString('latin1')).toBe('DCAC');
    expect(frame.readUInt16BE(FRAME_HEADER_BYTES + 4)).toBe(PROTOCOL_VERSION);
    expect(frame.readUInt32BE(6)).toBe(0);
  });

  it('does not parse past the version of another protocol version', () => {
    const frame = encodeHelloFrame(hello, PROTOCOL_VERSION + 1);
    expect(decodeHandshakeFrame(frame)).toEqual({
      kind: 'hello',
      version: PROTOCOL_VERSION + 1,
      hello: undefined,
    });
  });

  it('rejects a bad magic, a request frame, a non-zero id, truncation and a tiny or huge maxFrameBytes', () => {
    const badMagic = encodeHelloFrame(hello);
    badMagic[FRAME_HEADER_BYTES] = 0x47;
    expect(protocolError(() => decodeHandshakeFrame(badMagic))).toBe(true);
    expect(protocolError(() => decodeHandshakeFrame(encodeRequestFrame(0, { op: 'ping' })))).toBe(true);
    const withId = encodeHelloFrame(hello);
    withId.writeUInt32BE(5, 6);
    expect(protocolError(() => decodeHandshakeFrame(withId))).toBe(true);
    const full = encodeHelloFrame(hello);
    for (let cut = 0; cut < full.length; cut++) {
      const truncated = Buffer.from(full.subarray(0, cut));
      if (cut >= 4) truncated.writeUInt32BE(cut - 4, 0);
      expect(protocolError(() => decodeHandshakeFrame(truncated))).toBe(true);
    }
    expect(
      protocolError(() => decodeHandshakeFrame(encodeHelloFrame({ ...hello, maxFrameBytes: 100 }))),
    ).toBe(true);
    // A server sizes its answers by what the requester announces: over 1 GiB is refused.
    const huge = encodeHelloFrame({ ...hello, maxFrameBytes: 0xffff_ffff });
    expect(() => decodeHandshakeFrame(huge)).toThrow(
      /maxFrameBytes 4294967295 is over the maximum of 1073741824/,
    );
    expect(decodeHandshakeFrame(encodeHelloFrame({ ...hello, maxFrameBytes: 1 << 30 })).kind).toBe('hello');
  });
});

describe('handshakeProblem', () => {
  it('accepts the same version and cluster', () => {
    expect(handshakeProblem('shop', { version: PROTOCOL_VERSION, hello })).toBeUndefined();
  });

  it('refuses another cluster, naming both', () => {
    const problem = handshakeProblem('billing', { version: PROTOCOL_VERSION, hello });
    expect(problem?.reason).toBe(RefuseReason.CLUSTER);
    expect(problem?.message).toContain('"shop"');
    expect(problem?.message).toContain('"billing"');
  });

  it('refuses another version', () => {
    const problem = handshakeProblem('shop', { version: 2, hello: undefined });
    expect(problem?.reason).toBe(RefuseReason.VERSION);
    expect(problem?.message).toContain('protocol version 2');
  });

  it('names refusal reasons', () => {
    expect(refuseReasonName(RefuseReason.CLUSTER)).toBe('cluster-mismatch');
    expect(refuseReasonName(RefuseReason.VERSION)).toBe('version-mismatch');
    expect(refuseReasonName(RefuseReason.MALFORMED)).toBe('malformed-handshake');
    expect(refuseReasonName(99)).toBe('refused-99');
  });
});
