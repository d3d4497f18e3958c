import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors';
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  readFrameHeader,
} from './frame-codec';
import type { PeerRequest, PeerResponse } from './transport';
import { FRAME_HEADER_BYTES, FrameFlag, Opcode } from './wire-format';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

const requests: PeerRequest[] = [
  { op: 'get', keySpace: 'products', key: '42', forwarded: false },
  { op: 'get', keySpace: 'prodüctš', key: 'ключ/🔑', forwarded: true },
  { op: 'getMany', keySpace: 'products', keys: ['1', '2', ''], forwarded: true },
  { op: 'getMany', keySpace: 'products', keys: [], forwarded: false },
  { op: 'set', keySpace: 'products', key: '42', value: bytes(1, 2, 3, 255), expiresAt: 1_767_225_600_123 },
  { op: 'set', keySpace: 'p', key: 'k', value: new Uint8Array(0), expiresAt: 0 },
  { op: 'set', keySpace: 'p', key: 'k', value: bytes(9), expiresAt: Number.MAX_SAFE_INTEGER },
  { op: 'delete', keySpace: 'products', key: '42' },
  { op: 'deleteMany', keySpace: 'products', keys: ['a', 'b'] },
  { op: 'invalidate', keySpace: 'products', keys: ['a'] },
  { op: 'dropKeySpace', keySpace: 'products' },
  { op: 'ping' },
  { op: 'leave' },
  { op: 'probe', host: '10.0.0.9', port: 3320 },
  { op: 'sync' },
  { op: 'set', keySpace: 'p', key: 'k', value: bytes(1), expiresAt: 0, notAfter: 1_767_225_600_500 },
];

const responses: PeerResponse[] = [
  { op: 'value', result: { found: true, value: bytes(7, 8), expiresAt: 123 } },
  { op: 'value', result: { found: false, expiresAt: 0 } },
  { op: 'value', result: { found: false, expiresAt: 1_767_225_600_000 } },
  {
    op: 'values',
    results: [
      { found: true, value: bytes(1), expiresAt: 0 },
      { found: false, expiresAt: 5 },
      { found: true, value: new Uint8Array(0), expiresAt: 9 },
    ],
  },
  { op: 'values', results: [] },
  { op: 'ok' },
  { op: 'pong', nodeId: 'node-a' },
  { op: 'error', code: 'E_DATASOURCE_FAILED', message: 'boom ✗' },
];

/** Plain-object form, so Buffer/Uint8Array differences do not matter. */
const plain = (value: unknown): unknown => {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
};

function expectProtocolError(run: () => unknown): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(isDistCacheError(thrown, 'E_PROTOCOL'), String(thrown)).toBe(true);
}

describe('request frames', () => {
  it.each(requests.map((request) => [request.op, request] as const))('round-trips %s', (_op, request) => {
    const frame = encodeRequestFrame(77, request);
    const decoded = decodeRequestFrame(frame);
    expect(decoded.id).toBe(77);
    expect(plain(decoded.request)).toEqual(plain(request));
    expect(decoded.meta).toEqual({});
  });

  it('carries meta and sets the meta flag only when meta is not empty', () => {
    const withMeta = encodeRequestFrame(1, { op: 'ping' }, { traceparent: '00-abc-def-01', b: 'é' });
    expect(readFrameHeader(withMeta).flags & FrameFlag.META).toBe(FrameFlag.META);
    expect({ ...decodeRequestFrame(withMeta).meta }).toEqual({ traceparent: '00-abc-def-01', b: 'é' });
    const empty = encodeRequestFrame(1, { op: 'ping' }, {});
    expect(readFrameHeader(empty).flags).toBe(0);
  });

  it('keeps "__proto__" from the wire as a plain entry', () => {
    const meta = Object.create(null) as Record<string, string>;
    meta['__proto__'] = 'polluted';
    const decoded = decodeRequestFrame(encodeRequestFrame(1, { op: 'ping' }, meta)).meta;
    expect(decoded['__proto__']).toBe('polluted');
    expect(Object.getPrototypeOf(decoded)).toBeNull();
  });

  it('sets the forwarded flag for get and getMany only', () => {
    const get = encodeRequestFrame(1, { op: 'get', keySpace: 'k', key: 'x', forwarded: true });
    expect(readFrameHeader(get)).toEqual({
      length: get.length - 4,
      opcode: Opcode.GET,
      flags: FrameFlag.FORWARDED,
      id: 1,
    });
    expect(readFrameHeader(encodeRequestFrame(1, { op: 'delete', keySpace: 'k', key: 'x' })).flags).toBe(0);
  });

  it('has the documented layout for GET', () => {
    const frame = encodeRequestFrame(0x01020304, { op: 'get', keySpace: 'ks', key: 'k1', forwarded: true });
    expect([...frame]).toEqual([
      0, 0, 0, 16, 0x01, 0x01, 1, 2, 3, 4, 0, 2, 0x6b, 0x73, 0, 0, 0, 2, 0x6b, 0x31,
    ]);
  });

  it('rejects values it cannot represent', () => {
    const set = (expiresAt: number): PeerRequest => ({
      op: 'set',
      keySpace: 'k',
      key: 'x',
      value: bytes(1),
      expiresAt,
    });
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2])
      expectProtocolError(() => encodeRequestFrame(1, set(bad)));
    expectProtocolError(() =>
      encodeRequestFrame(1, { op: 'get', keySpace: 'x'.repeat(70_000), key: 'k', forwarded: false }),
    );
    const tooMuchMeta = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`m${i}`, 'v']));
    expectProtocolError(() => encodeRequestFrame(1, { op: 'ping' }, tooMuchMeta));
    expectProtocolError(() => encodeRequestFrame(1, { op: 'nope' } as unknown as PeerRequest));
    // Only answers carry values as one-byte strings; a SET's value must be bytes (a codec whose
    // encode returned a string is refused, not sent).
    expectProtocolError(() =>
      encodeRequestFrame(1, { ...set(0), value: 'abc' as unknown as Uint8Array } as PeerRequest),
    );
  });

  it('rejects every truncation of every request with E_PROTOCOL', () => {
    for (const request of requests) {
      const frame = encodeRequestFrame(3, request, { t: 'v' });
      for (let cut = 0; cut < frame.length; cut++) {
        const truncated = Buffer.from(frame.subarray(0, cut));
        if (truncated.length >= 4) truncated.writeUInt32BE(truncated.length - 4, 0);
        expectProtocolError(() => decodeRequestFrame(truncated));
      }
    }
  });

  it('refuses a key that is not valid UTF-8 (it would arrive as U+FFFD and collide)', () => {
    const frame = encodeRequestFrame(3, { op: 'get', keySpace: 'p', key: 'userX', forwarded: false });
    // Overwrite "X" with 0xED: the lead byte of an encoded surrogate, with no continuation.
    frame[frame.length - 1] = 0xed;
    expectProtocolError(() => decodeRequestFrame(frame));
    // A real U+FFFD in a key is valid UTF-8 and passes.
    const replacement = encodeRequestFrame(3, {
      op: 'get',
      keySpace: 'p',
      key: 'user\uFFFD',
      forwarded: false,
    });
    expect(decodeRequestFrame(replacement).request).toMatchObject({ key: 'user\uFFFD' });
  });

  it('rejects trailing bytes, response opcodes and lying counts', () => {
    const frame = encodeRequestFrame(3, { op: 'ping' });
    const longer = Buffer.concat([frame, bytes(0)]);
    longer.writeUInt32BE(longer.length - 4, 0);
    expectProtocolError(() => decodeRequestFrame(longer));
    expectProtocolError(() => decodeRequestFrame(encodeResponseFrame(3, { op: 'ok' })));
    const many = encodeRequestFrame(3, { op: 'getMany', keySpace: 'k', keys: ['a'], forwarded: false });
    many.writeUInt32BE(0xffff_fff0, FRAME_HEADER_BYTES + 3);
    expectProtocolError(() => decodeRequestFrame(many));
  });
});

describe('response frames', () => {
  it.each(responses.map((response) => [response.op, response] as const))(
    'round-trips %s',
    (_op, response) => {
      const decoded = decodeResponseFrame(encodeResponseFrame(0xffff_ffff, response));
      expect(decoded.id).toBe(0xffff_ffff);
      expect(plain(decoded.response)).toEqual(plain(response));
    },
  );

  it("hands out a response's value as a view of the frame (whoever keeps it copies it)", () => {
    const frame = encodeResponseFrame(1, {
      op: 'value',
      result: { found: true, value: bytes(5, 6), expiresAt: 0 },
    });
    const { response } = decodeResponseFrame(frame);
    expect(response.op === 'value' && response.result.found && [...response.result.value]).toEqual([5, 6]);
    frame.fill(0);
    expect(response.op === 'value' && response.result.found && [...response.result.value]).toEqual([0, 0]);
  });

  it('writes a value held as a packed string byte for byte, as the same bytes in a Uint8Array', () => {
    // The engine keeps values as one-byte strings (keyspace/packed-bytes.ts) and answers with them.
    const raw = Uint8Array.from({ length: 300 }, (_, index) => (index * 7) % 256);
    const packed = Buffer.from(raw).toString('latin1');
    const asString = encodeResponseFrame(3, {
      op: 'values',
      results: [
        { found: true, value: packed, expiresAt: 9, tags: ['t'] },
        { found: false, expiresAt: 0 },
        { found: true, value: '', expiresAt: 0 },
      ],
    });
    const asBytes = encodeResponseFrame(3, {
      op: 'values',
      results: [
        { found: true, value: raw, expiresAt: 9, tags: ['t'] },
        { found: false, expiresAt: 0 },
        { found: true, value: bytes(), expiresAt: 0 },
      ],
    });
    expect(asString.equals(asBytes)).toBe(true);
    const { response } = decodeResponseFrame(asString);
    const first = response.op === 'values' ? response.results[0] : undefined;
    expect(first?.found === true && [...first.value]).toEqual([...raw]);
  });

  it('refuses a string value with a character that is not one byte', () => {
    let caught: unknown;
    try {
      encodeResponseFrame(4, {
        op: 'value',
        result: { found: true, value: 'caf\u00e9 \u20ac', expiresAt: 0 },
      });
    } catch (error) {
      caught = error;
    }
    expect(isDistCacheError(caught) && caught.code).toBe('E_PROTOCOL');
    expect((caught as Error).message).toMatch(/value must hold one byte per character/);
  });

  it("copies a SET request's value out of the frame (the owner keeps it)", () => {
    const frame = encodeRequestFrame(2, {
      op: 'set',
      keySpace: 'ks',
      key: 'k',
      value: bytes(5, 6),
      expiresAt: 0,
    });
    const { request } = decodeRequestFrame(frame);
    frame.fill(0);
    expect(request.op === 'set' && [...request.value]).toEqual([5, 6]);
  });

  it('reports an unknown error code as E_PEER_UNAVAILABLE and keeps the original', () => {
    const frame = encodeResponseFrame(1, {
      op: 'error',
      code: 'E_FROM_THE_FUTURE' as 'E_PROTOCOL',
      message: 'hm',
    });
    expect(decodeResponseFrame(frame).response).toEqual({
      op: 'error',
      code: 'E_PEER_UNAVAILABLE',
      message: '[E_FROM_THE_FUTURE] hm',
    });
  });

  it('rejects every truncation of every response with E_PROTOCOL', () => {
    for (const response of responses) {
      const frame = encodeResponseFrame(9, response);
      for (let cut = 0; cut < frame.length; cut++) {
        const truncated = Buffer.from(frame.subarray(0, cut));
        if (truncated.length >= 4) truncated.writeUInt32BE(truncated.length - 4, 0);
        expectProtocolError(() => decodeResponseFrame(truncated));
      }
    }
  });

  it('rejects a found byte other than 0 or 1 and a request opcode', () => {
    const frame = encodeResponseFrame(1, { op: 'value', result: { found: false, expiresAt: 0 } });
    frame[FRAME_HEADER_BYTES] = 2;
    expectProtocolError(() => decodeResponseFrame(frame));
    expectProtocolError(() => decodeResponseFrame(encodeRequestFrame(1, { op: 'ping' })));
  });

  it('never throws anything but E_PROTOCOL on random bytes', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 2000; i++) {
      const frame = Buffer.alloc(10 + Math.floor(random() * 40));
      for (let j = 0; j < frame.length; j++) frame[j] = Math.floor(random() * 256);
      frame.writeUInt32BE(frame.length - 4, 0);
      frame[4] = [Opcode.GET, Opcode.GET_MANY, Opcode.SET, Opcode.VALUE, Opcode.VALUES, Opcode.ERROR][
        i % 6
      ] as number;
      for (const decode of [decodeRequestFrame, decodeResponseFrame]) {
        try {
          decode(frame);
        } catch (error) {
          expect(isDistCacheError(error, 'E_PROTOCOL')).toBe(true);
        }
      }
    }
  });
});

describe('readFrameHeader', () => {
  it('rejects frames shorter than the header or with a wrong length prefix', () => {
    expectProtocolError(() => readFrameHeader(bytes(0, 0, 0, 1, 1)));
    expectProtocolError(() => readFrameHeader(bytes(0, 0, 0, 9, 1, 0, 0, 0, 0, 1)));
  });
});

describe('extended replies (ERROR detail, OK removed count)', () => {
  const detail = { name: 'NotFoundException', message: 'nope', status: 404, response: { statusCode: 404 } };

  it('are sent only to a requester that set EXTENDED_REPLY, and decode back', () => {
    const asked = decodeRequestFrame(
      encodeRequestFrame(3, { op: 'get', keySpace: 'k', key: 'x', forwarded: true, extendedReply: true }),
    );
    expect(asked.request).toMatchObject({ op: 'get', extendedReply: true });
    const error = { op: 'error', code: 'E_DATASOURCE_FAILED', message: 'failed', detail } as const;
    expect(decodeResponseFrame(encodeResponseFrame(3, error, true)).response).toEqual(error);
    // A requester that did not ask (an older peer) gets the version-1 layout it can read.
    const plain = encodeResponseFrame(3, error, false);
    expect(readFrameHeader(plain).flags).toBe(0);
    expect(decodeResponseFrame(plain).response).toEqual({
      op: 'error',
      code: 'E_DATASOURCE_FAILED',
      message: 'failed',
    });
    expect(decodeResponseFrame(encodeResponseFrame(4, { op: 'ok', removed: 7 }, true)).response).toEqual({
      op: 'ok',
      removed: 7,
    });
    expect(decodeResponseFrame(encodeResponseFrame(4, { op: 'ok', removed: 7 }, false)).response).toEqual({
      op: 'ok',
    });
  });

  it('drop a response body that is too large or not JSON, keeping the rest', () => {
    const huge = { ...detail, response: 'x'.repeat(100_000) };
    const big = decodeResponseFrame(
      encodeResponseFrame(5, { op: 'error', code: 'E_DATASOURCE_FAILED', message: 'm', detail: huge }, true),
    ).response;
    expect(big).toMatchObject({ detail: { name: 'NotFoundException', status: 404 } });
    expect((big as { detail: { response?: unknown } }).detail.response).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const odd = decodeResponseFrame(
      encodeResponseFrame(
        6,
        { op: 'error', code: 'E_DATASOURCE_FAILED', message: 'm', detail: { ...detail, response: cyclic } },
        true,
      ),
    ).response;
    expect(odd).toMatchObject({ detail: { message: 'nope', status: 404 } });
  });
});
