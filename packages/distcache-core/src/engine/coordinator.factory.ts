import type { ClusterCoordinator } from '../cluster/coordinator';
import { PeerCoordinator } from '../cluster/peer.coordinator';
import { StandaloneCoordinator } from '../cluster/standalone.coordinator';
import { isStandalone } from '../discovery/standalone.discovery';
import { TcpPeerTransport } from '../transport/tcp-peer-transport';
import type { PeerTransport } from '../transport/transport';
import type { PeerEvent } from '../cluster/peer-event';
import type { BookkeepingLedger } from '../keyspace/bookkeeping';
import type { ResolvedEngineOptions } from './engine.options';

/** What the coordinator reports back to the engine. */
export interface CoordinatorHooks {
  /** Wraps each transport the coordinator makes (telemetry). */
  readonly wrapTransport: (transport: PeerTransport) => PeerTransport;
  readonly onPeerEvent: (event: PeerEvent) => void;
  /** Charges the keyspaces what the cluster keeps for them. */
  readonly ledger: BookkeepingLedger;
  /** The engine's clock of one reading per event-loop callback. */
  readonly turnClock: { now(): number };
}

/**
 * The standalone coordinator for the standalone discovery provider, the peer coordinator over a TCP
 * (or TLS) transport for every other one. The transport options were resolved with the engine
 * options (TLS material included), so each transport takes them as they are.
 */
export function createCoordinator(
  options: ResolvedEngineOptions,
  hooks: CoordinatorHooks,
): ClusterCoordinator {
  const { discovery, nodeName, host, port, advertiseHost, clock, logger, clusterOptions, transport } =
    options;
  if (isStandalone(discovery))
    return new StandaloneCoordinator(discovery, { host: advertiseHost, port, nodeName });
  return new PeerCoordinator({
    nodeName,
    bind: { host, port },
    advertiseHost,
    discovery,
    createTransport: () => hooks.wrapTransport(new TcpPeerTransport(transport)),
    clock,
    turnClock: hooks.turnClock,
    logger,
    options: clusterOptions,
    maxFrameBytes: transport.maxFrameBytes,
    onEvent: hooks.onPeerEvent,
    ledger: hooks.ledger,
  });
}
