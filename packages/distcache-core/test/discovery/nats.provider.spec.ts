// How natsDiscovery keeps its list, observed on a real nats-server: discovery replies for late
// joiners, push updates, departures at once, heartbeat expiry after a crash, and a NATS outage
// longer than the heartbeat timeout that must not empty the list.
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DiscoveredPeer, isDistCacheError } from '../../src';
import { type NatsDiscovery, type NatsDiscoveryOptions, natsDiscovery } from '../../src/discovery/nats';
import { waitUntil } from '../support/cluster';
import { capturingClient, type NatsServer, startNatsServer } from '../support/nats-server';

const HEARTBEAT_INTERVAL = 100;
const HEARTBEAT_TIMEOUT = 800;
const signal = () => new AbortController().signal;
const key = (peer: DiscoveredPeer) => `${peer.host}:${peer.port}`;
const at = (port: number) => `127.0.0.1:${port}`;

let opened: NatsDiscovery[] = [];
afterEach(async () => {
  await Promise.all(opened.map((provider) => provider.close()));
  opened = [];
});

function provider(server: NatsServer, options: Partial<NatsDiscoveryOptions> = {}): NatsDiscovery {
  const created = natsDiscovery({
    servers: server.url,
    cluster: 'provider-spec',
    heartbeatInterval: HEARTBEAT_INTERVAL,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    discoverWindow: 50,
    reconnectTimeWait: 100,
    ...options,
  });
  opened.push(created);
  return created;
}

async function registered(server: NatsServer, port: number, options: Partial<NatsDiscoveryOptions> = {}) {
  const created = provider(server, options);
  await created.initialize(signal());
  await created.register({ host: '127.0.0.1', port, nodeName: `node-${port}` }, signal());
  return created;
}

/** Follows a provider's pushes: the latest list (sorted ids) and every change with its time. */
function follow(watched: NatsDiscovery) {
  const state = { peers: [] as string[], changes: [] as Array<{ at: number; peers: string[] }> };
  watched.watch((peers) => {
    state.peers = peers.map(key).sort();
    state.changes.push({ at: Date.now(), peers: state.peers });
  });
  return state;
}

const listed = async (watched: NatsDiscovery) => (await watched.discoverPeers(signal())).map(key).sort();

describe('natsDiscovery on a running server', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server.stop('SIGTERM');
  });

  it('a node that connects later sees the registered nodes at once, from discovery replies', async () => {
    // Heartbeats every 10 s: only the replies to a discovery request can explain an answer within 5 s
    // (not tighter: the suite runs beside the others on two cores).
    const slow = { heartbeatInterval: '10s', heartbeatTimeout: '30s', cluster: 'late-joiner' } as const;
    await registered(server, 42_001, slow);
    await registered(server, 42_002, slow);
    const late = provider(server, slow);
    await late.initialize(signal());
    const startedAt = Date.now();
    expect(await listed(late)).toEqual([at(42_001), at(42_002)]);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    const joiner = await registered(server, 42_003, slow);
    expect(await listed(joiner)).toEqual([at(42_001), at(42_002), at(42_003)]);
  });

  it('pushes joins and departures to watchers, drops a departed node at once and a crashed one after the heartbeat timeout', async () => {
    const observer = provider(server);
    await observer.initialize(signal());
    const seen = follow(observer);
    await registered(server, 42_011);
    const crashing = capturingClient();
    const crashed = await registered(server, 42_012, { importClient: crashing.importClient });
    const leaving = await registered(server, 42_013);
    await waitUntil(() => seen.peers.length === 3, 2_000, 'three nodes announced');
    expect(seen.peers).toEqual([at(42_011), at(42_012), at(42_013)]);

    const leftAt = Date.now();
    await leaving.deregister();
    await waitUntil(() => !seen.peers.includes(at(42_013)), 2_000, 'departure');
    expect(Date.now() - leftAt).toBeLessThan(HEARTBEAT_TIMEOUT / 2);

    // A crash: the connection goes away without a departure notice.
    const crashedAt = Date.now();
    await crashing.connections[0]!.close();
    await waitUntil(() => !seen.peers.includes(at(42_012)), HEARTBEAT_TIMEOUT * 4, 'expiry');
    const droppedAfter = Date.now() - crashedAt;
    // Not at once (no departure notice was sent), and not much later than the timeout.
    expect(droppedAfter).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT / 2);
    expect(droppedAfter).toBeLessThan(HEARTBEAT_TIMEOUT * 2);
    expect(seen.peers).toEqual([at(42_011)]);
    expect(await listed(observer)).toEqual([at(42_011)]);
    // On the node whose connection died for good, discovery fails (the engine keeps its members).
    const error = await crashed.discoverPeers(signal()).catch((caught: unknown) => caught);
    expect(isDistCacheError(error, 'E_DISCOVERY_FAILED')).toBe(true);
  });

  it('does not drop peers because this process itself stalled for longer than the heartbeat timeout', async () => {
    const observer = provider(server, { cluster: 'stall' });
    await observer.initialize(signal());
    await registered(server, 42_041, { cluster: 'stall' });
    await registered(server, 42_042, { cluster: 'stall' });
    expect(await listed(observer)).toEqual([at(42_041), at(42_042)]);
    const seen = follow(observer);
    // A long GC pause or a starved event loop: timers fire late, the heartbeats wait unread.
    const until = Date.now() + 2 * HEARTBEAT_TIMEOUT;
    while (Date.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_INTERVAL));
    expect(seen.changes).toEqual([]);
    expect(await listed(observer)).toEqual([at(42_041), at(42_042)]);
  });

  it('stops pushing to a listener after unsubscribe, and survives a listener that throws', async () => {
    const observer = provider(server, { cluster: 'listeners' });
    await observer.initialize(signal());
    let calls = 0;
    const unsubscribe = observer.watch(() => {
      calls += 1;
    });
    observer.watch(() => {
      throw new Error('listener bug');
    });
    const seen = follow(observer);
    await registered(server, 42_021, { cluster: 'listeners' });
    await waitUntil(() => seen.peers.length === 1, 2_000, 'first join');
    expect(calls).toBe(1);
    unsubscribe();
    await registered(server, 42_022, { cluster: 'listeners' });
    await waitUntil(() => seen.peers.length === 2, 2_000, 'second join');
    expect(calls).toBe(1);
  });

  it('ignores malformed messages and nodes of another cluster', async () => {
    const observer = provider(server, { cluster: 'strict' });
    await observer.initialize(signal());
    await registered(server, 42_031, { cluster: 'strict' });
    await registered(server, 42_032, { cluster: 'elsewhere' });
    const raw = await connect({ servers: server.url });
    try {
      for (const payload of [
        'not json',
        '{"v":1,"host":"","port":1,"state":"up"}',
        '{"v":9,"host":"x","port":1,"state":"up"}',
      ])
        raw.publish(observer.subjects.announce, payload);
      await raw.flush();
      await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_INTERVAL));
      expect(await listed(observer)).toEqual([at(42_031)]);
    } finally {
      await raw.close();
    }
  });
});

describe('natsDiscovery through a NATS outage', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('keeps the list while NATS is down (longer than the heartbeat timeout), then expires only the node that did not come back', async () => {
    const survivor = await registered(server, 43_001);
    const dying = await registered(server, 43_002);
    const other = await registered(server, 43_003);
    expect(await listed(survivor)).toEqual([at(43_001), at(43_002), at(43_003)]);
    const seen = follow(survivor);
    const seenByOther = follow(other);

    await server.stop();
    // The dying node ends while NATS is down: no departure notice can reach anyone.
    await dying.close();
    await new Promise((resolve) => setTimeout(resolve, 2 * HEARTBEAT_TIMEOUT));
    expect(await listed(survivor)).toEqual([at(43_001), at(43_002), at(43_003)]);
    expect(seen.changes).toEqual([]);

    await server.start();
    const restartedAt = Date.now();
    await waitUntil(() => seen.peers.length === 2, HEARTBEAT_TIMEOUT * 5, 'expiry after the grace period');
    // Expiry resumes only after a full heartbeat timeout of grace from the reconnect.
    expect(Date.now() - restartedAt).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT - 150);
    expect(seen.peers).toEqual([at(43_001), at(43_003)]);
    // Each node's grace period starts at its own reconnect; then the other node drops it too.
    await waitUntil(() => seenByOther.peers.length === 2, HEARTBEAT_TIMEOUT * 5, 'expiry on the other');
    expect(seenByOther.peers).toEqual([at(43_001), at(43_003)]);
    // Both re-announced themselves after the restart: a newcomer sees them at once.
    const newcomer = provider(server);
    await newcomer.initialize(signal());
    expect(await listed(newcomer)).toEqual([at(43_001), at(43_003)]);
  });
});
