import type { DiscoveryProvider } from '../discovery/discovery';
import { DistCacheError } from '../errors/distcache-error';
import type { PeerResponse } from '../transport/transport';
import type { ClusterCoordinator, PeerRef } from './coordinator';
import { type PeerInfo, peerRef } from './peer-state';

/**
 * The coordinator of a single node: owns every key, has no listener. It still drives the discovery
 * provider's lifecycle, so a provider that fails makes `start()` fail the same way in every mode.
 */
export class StandaloneCoordinator implements ClusterCoordinator {
  private registered = false;
  private initialized = false;
  private readonly selfRef: PeerRef;

  constructor(
    private readonly discovery: DiscoveryProvider,
    private readonly identity: { host: string; port: number; nodeName: string },
  ) {
    this.selfRef = peerRef(identity.host, identity.port);
  }

  async start(_handler: unknown, signal: AbortSignal): Promise<void> {
    try {
      this.initialized = true;
      await this.discovery.initialize(signal);
      await this.discovery.register({ host: this.selfRef.host, port: this.selfRef.port }, signal);
      this.registered = true;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.registered) {
      this.registered = false;
      await this.discovery.deregister();
    }
    if (this.initialized) {
      this.initialized = false;
      await this.discovery.close();
    }
  }

  ownerOf(): PeerRef | undefined {
    return undefined;
  }

  /** Nothing to wait for: no other node writes. */
  readHold(): undefined {
    return undefined;
  }

  self(): PeerRef {
    return this.selfRef;
  }

  members(): readonly PeerRef[] {
    return [this.selfRef];
  }

  peers(): PeerInfo[] {
    return [
      {
        ...this.selfRef,
        status: 'self',
        nodeName: this.identity.nodeName,
        ownershipShare: 1,
        lastSeenAt: undefined,
      },
    ];
  }

  send(peer: PeerRef): Promise<PeerResponse> {
    return Promise.reject(new DistCacheError('E_PEER_UNAVAILABLE', `Standalone node has no peer ${peer.id}`));
  }

  broadcast(): Promise<string[]> {
    return Promise.resolve([]);
  }

  invalidate(): Promise<string[]> {
    return Promise.resolve([]);
  }

  clearEverywhere(): Promise<string[]> {
    return Promise.resolve([]);
  }

  invalidateTags(): Promise<string[]> {
    return Promise.resolve([]);
  }
}
