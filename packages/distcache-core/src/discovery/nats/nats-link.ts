import { discoveryFailed } from '../../errors/messages';
import { isDistCacheError } from '../../errors/distcache-error';
import { waitFor } from '../../util/abort';
import type { Clock } from '../../util/clock';
import type { Logger } from '../../util/logger';
import type { NatsClientModule, NatsConnection, NatsMessage } from './nats-client';
import type { ResolvedNatsDiscoveryOptions } from './nats-discovery.options';

/** What the provider hears from its link. */
export interface NatsLinkEvents {
  /** The connection dropped; the client is reconnecting on its own. */
  down(): void;
  /** The connection is back after a drop. */
  up(): void;
  /** The client gave up for good (only on repeated authentication errors). */
  lost(cause: unknown): void;
}

/**
 * One NATS connection and whether it is usable right now. The client reconnects by itself; the
 * link turns its status stream into `down`/`up`/`lost` events and refuses to publish while down
 * (a heartbeat buffered during an outage would arrive stale).
 */
export class NatsLink {
  private upValue = true;
  private closedByUs = false;
  private following = false;

  private constructor(
    private readonly client: NatsClientModule,
    private readonly connection: NatsConnection,
    private readonly logger: Logger,
  ) {}

  /**
   * Connects, giving up when `signal` fires.
   * @throws DistCacheError `E_DISCOVERY_FAILED` when no server answers, `E_ABORTED` on abort
   */
  static async open(
    client: NatsClientModule,
    options: ResolvedNatsDiscoveryOptions,
    signal: AbortSignal,
    clock: Clock,
  ): Promise<NatsLink> {
    const connecting = client.connect({
      servers: [...options.servers],
      name: options.name,
      // Reconnect forever: a NATS outage must never end discovery.
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectTimeWaitMs,
      timeout: options.connectTimeoutMs,
      ...(options.user === undefined ? {} : { user: options.user, pass: options.pass }),
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(options.tls === undefined ? {} : { tls: { ...options.tls } }),
    });
    let connection: NatsConnection;
    try {
      connection = await waitFor(connecting, { signal }, clock, 'natsDiscovery.initialize');
    } catch (error) {
      // Given up on (aborted): close the connection if it still arrives.
      connecting.then(
        (late) => late.close().catch(() => undefined),
        () => undefined,
      );
      if (isDistCacheError(error)) throw error;
      const servers = options.servers.map(redact).join(', ');
      throw discoveryFailed('nats', `cannot connect to ${servers}: ${String(error)}`, error);
    }
    return new NatsLink(client, connection, options.logger);
  }

  /**
   * Starts reporting connection changes. Called by the owner once it holds the link, so no event
   * reaches it before; none can be missed either, as no I/O runs between `open` and this call.
   */
  follow(events: NatsLinkEvents): void {
    if (this.following) return;
    this.following = true;
    void this.followStatus(events);
    void this.connection.closed().then((error) => this.onClosed(events, error));
  }

  /** True while connected; false while reconnecting and after close. */
  get up(): boolean {
    return this.upValue;
  }

  /** Publishes; false when down or when the client refused (closed, draining). */
  publish(subject: string, payload: string, reply?: string): boolean {
    if (!this.upValue) return false;
    try {
      this.connection.publish(subject, payload, reply === undefined ? undefined : { reply });
      return true;
    } catch (error) {
      this.logger.warn('NATS publish failed', { subject, error: String(error) });
      return false;
    }
  }

  /** Subscribes with a callback; returns an unsubscribe that is safe after close. */
  subscribe(subject: string, onMessage: (message: NatsMessage) => void): () => void {
    const subscription = this.connection.subscribe(subject, {
      callback: (error, message) => {
        if (error === null) onMessage(message);
        else this.logger.warn('NATS subscription error', { subject, error: String(error) });
      },
    });
    return () => {
      try {
        subscription.unsubscribe();
      } catch {
        // The connection closed meanwhile; its subscriptions went with it.
      }
    };
  }

  /** A fresh reply subject. */
  createInbox(): string {
    return this.client.createInbox();
  }

  /** Waits until the server has everything published so far, at most `timeoutMs`. */
  flush(timeoutMs: number, clock: Clock): Promise<void> {
    return waitFor(this.connection.flush(), { timeoutMs }, clock, 'NATS flush');
  }

  async close(): Promise<void> {
    this.closedByUs = true;
    this.upValue = false;
    if (this.connection.isClosed()) return;
    await this.connection
      .close()
      .catch((error: unknown) =>
        this.logger.warn('closing the NATS connection failed', { error: String(error) }),
      );
  }

  private async followStatus(events: NatsLinkEvents): Promise<void> {
    try {
      for await (const status of this.connection.status()) {
        if (this.closedByUs) return;
        if (status.type === 'disconnect' && this.upValue) {
          this.upValue = false;
          events.down();
        } else if (status.type === 'reconnect' && !this.upValue) {
          this.upValue = true;
          events.up();
        }
      }
    } catch (error) {
      this.logger.debug('NATS status stream ended', { error: String(error) });
    }
  }

  private onClosed(events: NatsLinkEvents, error: void | Error): void {
    if (this.closedByUs) return;
    this.upValue = false;
    events.lost(error);
  }
}

// Keeps credentials embedded in a server URL out of error messages.
const redact = (server: string): string => server.replace(/\/\/[^/@]*@/, '//***@');
