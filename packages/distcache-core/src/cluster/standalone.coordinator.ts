import type { DiscoveryProvider } from '../discovery/discovery';
import type { ClusterCoordinator, PeerRef } from './coordinator';

/**
 * The coordinator of a single node: owns every key, has no listener. It still drives the discovery
 * provider's lifecycle, so a provider that fails makes `start()` fail the same way in every mode.
 */
export class StandaloneCoordinator implements ClusterCoordinator {
  private registered = false;
  private initialized = false;
  private readonly self: PeerRef;

  constructor(
    private readonly discovery: DiscoveryProvider,
    self: { host: string; port: number; nodeName: string },
  ) {
    this.self = { id: `${self.host}:${self.port}`, host: self.host, port: self.port };
  }

  async start(signal: AbortSignal): Promise<void> {
    try {
      this.initialized = true;
      await this.discovery.initialize(signal);
      await this.discovery.register({ host: this.self.host, port: this.self.port }, signal);
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

  members(): readonly PeerRef[] {
    return [this.self];
  }
}
