// Members that leave the discovered list are disconnected: a cluster whose nodes come and go at new
// addresses (Kubernetes pods) must not keep a peer client, or a socket to a node that is still up
// but no longer listed, for every address it ever saw. Real transports on loopback; the discovery
// is a list the test edits, pushed through `watch` like the NATS and Kubernetes providers do.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveClusterOptions } from '../../src/cluster/cluster.options';
import { Membership } from '../../src/cluster/membership';
import { peerRef } from '../../src/cluster/peer-state';
import type { DiscoveredPeer, DiscoveryProvider } from '../../src/discovery/discovery';
import type { PeerEvent } from '../../src/cluster/peer-event';
import { systemClock } from '../../src/util/clock';
import { silentLogger } from '../../src/util/logger';
import { closeAll, pong, rejection, server, transport } from '../transport/helpers';
import { FAST_CLUSTER, waitUntil } from '../support/cluster';

class EditableDiscovery implements DiscoveryProvider {
  readonly name = 'editable';
  private listener: ((peers: DiscoveredPeer[]) => void) | undefined;
  constructor(private peers: DiscoveredPeer[]) {}
  initialize = async (): Promise<void> => undefined;
  register = async (): Promise<void> => undefined;
  deregister = async (): Promise<void> => undefined;
  close = async (): Promise<void> => undefined;
  discoverPeers = async (): Promise<DiscoveredPeer[]> => [...this.peers];
  watch(listener: (peers: DiscoveredPeer[]) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  set(peers: DiscoveredPeer[]): void {
    this.peers = peers;
    this.listener?.([...peers]);
  }
}

let membership: Membership | undefined;
afterEach(async () => {
  membership?.stop();
  membership = undefined;
  await closeAll();
});

describe('peers that are no longer discovered', () => {
  it('are disconnected and forgotten by the transport, and a request in flight to them fails fast', async () => {
    const b = await server(pong('b'));
    const c = await server(async (request) =>
      request.op === 'ping' ? { op: 'pong', nodeId: 'c' } : new Promise(() => undefined),
    );
    const self = transport({ nodeId: 'a' });
    const selfAddress = await self.listen(pong('a'));
    const list = [selfAddress, b.address, c.address].map((address) => ({ ...address }));
    const discovery = new EditableDiscovery(list);
    const events: PeerEvent[] = [];
    membership = new Membership({
      self: peerRef(selfAddress.host, selfAddress.port),
      nodeName: 'a',
      discovery,
      transport: self,
      clock: systemClock,
      logger: silentLogger,
      options: resolveClusterOptions(FAST_CLUSTER),
      onEvent: (event) => void events.push(event),
    });
    await membership.start();
    const alive = (): number => membership?.aliveMembers().length ?? 0;
    await waitUntil(() => alive() === 2, 2_000, 'B and C to be members');
    expect(self.peerCount).toBe(2);
    await waitUntil(() => c.server.inboundConnections === 1, 2_000, 'C to hold our connection');

    const stuck = self.request(
      c.address,
      { op: 'get', keySpace: 's', key: 'k', forwarded: true },
      { timeoutMs: 60_000 },
    );
    discovery.set([selfAddress, b.address]);

    const error = await rejection(stuck);
    expect(error.code).toBe('E_PEER_UNAVAILABLE');
    expect(error.details['reason']).toBe('peer-left');
    expect(self.peerCount).toBe(1);
    await waitUntil(() => c.server.inboundConnections === 0, 2_000, 'C to see our connection closed');
    expect(events.map((event) => `${event.type}:${event.peer.id}`)).toContain(
      `left:${peerRef(c.address.host, c.address.port).id}`,
    );
    // B is untouched, and C can come back: a new client connects.
    expect(b.server.inboundConnections).toBe(1);
    discovery.set([selfAddress, b.address, c.address]);
    await waitUntil(() => self.peerCount === 2 && c.server.inboundConnections === 1, 2_000, 'C to rejoin');
  });
});
