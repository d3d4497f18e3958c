import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/testing';
import type { PeerResponse } from '../../src/transport';
import { closeAll, ping, rejection, server, transport, until } from './helpers';

afterEach(closeAll);

const never = (): Promise<PeerResponse> => new Promise<PeerResponse>(() => undefined);

describe('connection failures', () => {
  it('fails every pending request at once with E_PEER_UNAVAILABLE when the socket dies', async () => {
    const clock = new ManualClock();
    let arrived = 0;
    const { server: peer, address } = await server(() => {
      arrived++;
      return never();
    });
    const client = transport({ clock });
    const pending = Array.from({ length: 10 }, () =>
      client.request(address, { op: 'ping' }, { timeoutMs: 60_000 }),
    );
    await until(() => arrived === 10, 'all requests to arrive');
    await peer.close();
    // No clock movement: the failures come from the closed socket, not from deadlines.
    const errors = await Promise.all(pending.map(rejection));
    for (const error of errors) {
      expect(error.code).toBe('E_PEER_UNAVAILABLE');
      expect(error.details['reason']).toBe('connection-lost');
    }
  });

  it('reconnects after the server restarts, failing fast with backoff in between', async () => {
    const clock = new ManualClock();
    const first = await server();
    const { address } = first;
    const client = transport({ clock, reconnect: { baseDelay: 100, maxDelay: 1000, jitter: 0 } });
    expect(await ping(client, address)).toEqual({ op: 'pong', nodeId: 'server' });

    await first.server.close();
    expect((await rejection(ping(client, address))).code).toBe('E_PEER_UNAVAILABLE');
    // Whichever of "connection lost" and "connection refused" the previous request saw, the next
    // attempt to connect is refused and starts the backoff.
    const refused = await rejection(ping(client, address));
    const attemptFailed =
      refused.details['reason'] === 'connect-failed' ? refused : await rejection(ping(client, address));
    expect(attemptFailed.details['reason']).toBe('connect-failed');

    const fast = await rejection(ping(client, address));
    expect(fast.code).toBe('E_PEER_UNAVAILABLE');
    expect(fast.details['reason']).toBe('backoff');
    expect(fast.message).toMatch(/reconnecting in \d+ms after: /);
    // The error it waits after is named once (/healthz showed it twice, as problem and as cause),
    // and the peer is said unavailable once.
    const after = attemptFailed.message.replace(/^Peer \S+ is unavailable: /, '');
    expect(after).toMatch(/^cannot connect \(/);
    expect(fast.message.split(after).length - 1).toBe(1);
    expect(fast.message.split('is unavailable').length - 1).toBe(1);

    await clock.advance(100);
    const second = await rejection(ping(client, address));
    expect(second.details['reason']).toBe('connect-failed');
    await clock.advance(199);
    expect((await rejection(ping(client, address))).details['reason']).toBe('backoff');

    await server(undefined, { port: address.port, nodeId: 'server-2' });
    await clock.advance(1);
    expect(await ping(client, address)).toEqual({ op: 'pong', nodeId: 'server' });
  });

  it('reports an unreachable peer as E_PEER_UNAVAILABLE', async () => {
    const { server: peer, address } = await server();
    await peer.close();
    const error = await rejection(ping(transport(), address));
    expect(error.code).toBe('E_PEER_UNAVAILABLE');
    expect(error.message).toContain(`127.0.0.1:${address.port}`);
  });
});

describe('in-flight limits', () => {
  it('rejects requests past maxInFlightPerPeer at once with E_TOO_MANY_REQUESTS, counting those still connecting', async () => {
    const held: Array<() => void> = [];
    const { address } = await server(
      () => new Promise<PeerResponse>((resolve) => held.push(() => resolve({ op: 'ok' }))),
    );
    const client = transport({ maxInFlightPerPeer: 3 });
    const first = [ping(client, address), ping(client, address), ping(client, address)];
    const over = await rejection(ping(client, address));
    expect(over.code).toBe('E_TOO_MANY_REQUESTS');
    expect(over.details['limit']).toBe(3);
    await until(() => held.length === 3, 'three requests at the server');
    expect((await rejection(ping(client, address))).code).toBe('E_TOO_MANY_REQUESTS');
    held.shift()?.();
    await first[0];
    const fourth = ping(client, address);
    await until(() => held.length === 3, 'the fourth request at the server');
    for (const release of held) release();
    expect(await Promise.all([fourth, first[1], first[2]])).toEqual([
      { op: 'ok' },
      { op: 'ok' },
      { op: 'ok' },
    ]);
  });

  it('answers E_TOO_MANY_REQUESTS from the server past its own per-connection limit', async () => {
    let arrived = 0;
    const { address } = await server(
      () => {
        arrived++;
        return never();
      },
      { maxInFlightPerPeer: 2 },
    );
    const client = transport();
    void ping(client, address).catch(() => undefined);
    void ping(client, address).catch(() => undefined);
    expect(await ping(client, address)).toMatchObject({ op: 'error', code: 'E_TOO_MANY_REQUESTS' });
    expect(arrived).toBe(2);
  });
});

describe('close()', () => {
  it('fails pending requests at once, is idempotent, and refuses later use', async () => {
    const { address } = await server(never);
    const client = transport();
    const pending = ping(client, address);
    const connecting = ping(client, { host: '127.0.0.1', port: 9 });
    await Promise.all([client.close(), client.close()]);
    await client.close();
    for (const error of await Promise.all([rejection(pending), rejection(connecting)])) {
      expect(error.code).toBe('E_PEER_UNAVAILABLE');
      expect(error.details['reason']).toBe('transport-closed');
    }
    expect((await rejection(ping(client, address))).details['reason']).toBe('transport-closed');
    expect((await rejection(client.listen(never))).code).toBe('E_INVALID_OPTION');
  });

  it('leaves no listener behind when close() races listen()', async () => {
    const racing = transport({ nodeId: 'racer' });
    const listening = racing.listen(never);
    await racing.close();
    const address = await listening;
    const error = await rejection(ping(transport(), address));
    expect(error.details['reason']).toBe('connect-failed');
  });

  it('rejects a second listen() and a port in use', async () => {
    const { server: peer, address } = await server();
    expect((await rejection(peer.listen(never))).code).toBe('E_INVALID_OPTION');
    const clash = transport({ port: address.port });
    const error = await rejection(clash.listen(never));
    expect(error.code).toBe('E_PEER_UNAVAILABLE');
    expect(error.details['reason']).toBe('listen-failed');
    expect(error.message).toContain('another process or another engine in this process listens there');
  });
});
