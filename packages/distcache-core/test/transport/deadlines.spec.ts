import { afterEach, describe, expect, it } from 'vitest';
import { isDistCacheError } from '../../src/errors';
import { ManualClock } from '../../src/testing';
import type { PeerResponse } from '../../src/transport';
import { closeAll, ping, rejection, server, transport, until } from './helpers';

afterEach(closeAll);

/** A handler whose answers are released by hand. */
function heldHandler(): {
  handler: () => Promise<PeerResponse>;
  held: Array<(response: PeerResponse) => void>;
} {
  const held: Array<(response: PeerResponse) => void> = [];
  return { held, handler: () => new Promise<PeerResponse>((release) => held.push(release)) };
}

describe('request deadlines and cancellation', () => {
  it('rejects with E_TIMEOUT at the deadline and drops the late reply', async () => {
    const clock = new ManualClock();
    const { handler, held } = heldHandler();
    const { address } = await server(handler);
    const client = transport({ clock });
    const slow = client.request(address, { op: 'ping' }, { timeoutMs: 50 });
    await until(() => held.length === 1, 'the request to reach the handler');
    await clock.advance(49);
    let settled = false;
    void slow.catch(() => (settled = true));
    await clock.advance(0);
    expect(settled).toBe(false);
    await clock.advance(1);
    const error = await rejection(slow);
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toContain('within 50ms');
    // The late reply finds no request and is dropped; the connection keeps working.
    held[0]?.({ op: 'pong', nodeId: 'late' });
    const next = client.request(address, { op: 'ping' }, { timeoutMs: 50 });
    await until(() => held.length === 2, 'the second request');
    held[1]?.({ op: 'pong', nodeId: 'second' });
    expect(await next).toEqual({ op: 'pong', nodeId: 'second' });
  });

  it('rejects with E_ABORTED when the signal fires, and at once for an aborted signal', async () => {
    const { handler, held } = heldHandler();
    const { address } = await server(handler);
    const client = transport();
    const controller = new AbortController();
    const pending = client.request(address, { op: 'ping' }, { timeoutMs: 5000, signal: controller.signal });
    await until(() => held.length === 1, 'the request to reach the handler');
    controller.abort(new Error('user went away'));
    const error = await rejection(pending);
    expect(error.code).toBe('E_ABORTED');
    expect((error.cause as Error).message).toBe('user went away');
    const early = await rejection(
      client.request(address, { op: 'ping' }, { timeoutMs: 5000, signal: controller.signal }),
    );
    expect(early.code).toBe('E_ABORTED');
    held[0]?.({ op: 'ok' });
    held.length = 0;
    const next = ping(client, address);
    await until(() => held.length === 1, 'the next request');
    held[0]?.({ op: 'pong', nodeId: 'server' });
    expect(await next).toEqual({ op: 'pong', nodeId: 'server' });
  });

  it("fires the handler's signal when the connection closes", async () => {
    const signals: AbortSignal[] = [];
    const { address } = await server(
      (_request, _from, signal) =>
        new Promise<PeerResponse>(() => {
          signals.push(signal);
        }),
    );
    const client = transport();
    const pending = client.request(address, { op: 'ping' }, { timeoutMs: 5000 });
    await until(() => signals.length === 1, 'the request to reach the handler');
    expect(signals[0]?.aborted).toBe(false);
    await client.close();
    expect((await rejection(pending)).code).toBe('E_PEER_UNAVAILABLE');
    await until(() => signals[0]?.aborted === true, 'the handler signal to fire');
    expect(isDistCacheError(signals[0]?.reason, 'E_PEER_UNAVAILABLE')).toBe(true);
  });

  it('rejects an invalid timeout or peer with E_INVALID_OPTION', async () => {
    const client = transport();
    const address = { host: '127.0.0.1', port: 1 };
    expect((await rejection(client.request(address, { op: 'ping' }, { timeoutMs: 0 }))).code).toBe(
      'E_INVALID_OPTION',
    );
    expect((await rejection(client.request(address, { op: 'ping' }, { timeoutMs: Number.NaN }))).code).toBe(
      'E_INVALID_OPTION',
    );
    const badPeer = await rejection(
      client.request({ host: '', port: 80 }, { op: 'ping' }, { timeoutMs: 10 }),
    );
    expect(badPeer.details['path']).toBe('peer');
  });
});
